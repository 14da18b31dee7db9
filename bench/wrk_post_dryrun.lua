-- wrk script: POST /api/v1/experiments?dry_run=true with a small valid spec (validated, costed, never queued).
wrk.method = "POST"
wrk.path = "/api/v1/experiments?dry_run=true"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"name": "bench dry run", "data": {"source": "fashion-mnist", "resize": 4, "n_train": [100, 200, 400],
 "n_test": 1000}, "models": [{"arch": "fcn", "depth": 2}, {"arch": "cnn-gap", "filter": [3, 3]}],
 "inference": [{"method": "nngp"}, {"method": "ntk"}], "repeats": 3}]]
