-- POST one OFREP evaluation.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"context": {"targetingKey": "user-42", "country": "DE", "email": "a@elsewhere.org"}}'
