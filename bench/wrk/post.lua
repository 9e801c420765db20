-- One request through all three CertDirectory layers (global-ip, api-key, auth) with headers.
wrk.method = "POST"
wrk.body = '{"email":"bench@example.com"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Bench-Key"] = "bench-key"
