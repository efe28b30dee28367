-- POST an OFREP bulk evaluation (every flag of the environment).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"context": {"targetingKey": "user-42", "country": "DE", "platform": "ios", "appVersion": "5.4.1"}}'
