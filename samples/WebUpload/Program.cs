using WebUpload;

// Usage: dotnet run --project samples/WebUpload [-- --port N] [--Storage:Root FOLDER]
// Listens on http://127.0.0.1:5080 by default; --port 0 picks a free port (the address is logged as "Now listening on").
//   curl -F file=@photo.jpg http://127.0.0.1:5080/files   → 202 Accepted {"token":...,"statusUrl":"/uploads/<token>","jobId":...}
//   curl http://127.0.0.1:5080/uploads/<token>             → queued / running / failed-will-retry / succeeded / dead-lettered / cancelled
//   curl -o photo.jpg.gz http://127.0.0.1:5080/uploads/<token>/result
//   curl -X DELETE http://127.0.0.1:5080/uploads/<token>   → cancels it (200 not started, 202 running, 409 finished)
//   curl http://127.0.0.1:5080/metrics                     → the queue's metrics, in Prometheus format
//   http://127.0.0.1:5080/jobs in a browser on this machine  → the queue's dashboard (loopback only: the sample has no authorization policy)
// The token is the only key to an upload's status, result and cancel: the job id is not a secret (see docs/samples/web-upload.md).
// Uploads and results go under Storage:Root; by default a new <temp>/asyncqueue-webupload-<8 hex digits>, deleted on Ctrl+C.
var app = UploadApp.Build(args);
await app.RunAsync();
