using WebUpload;

// Usage: dotnet run --project samples/WebUpload   (listens on http://127.0.0.1:5080, see Properties/launchSettings.json)
//   curl -F file=@photo.jpg http://127.0.0.1:5080/files        → 202 Accepted {"jobId":...,"statusUrl":"/jobs/..."}
//   curl http://127.0.0.1:5080/jobs/<id>                       → queued / running / succeeded / failed
//   curl -o photo.jpg.gz http://127.0.0.1:5080/jobs/<id>/result
//   curl http://127.0.0.1:5080/metrics                         → the queue's metrics, in Prometheus format
// Uploads and results go under Storage:Root (default: <temp>/asyncqueue-webupload).
var app = UploadApp.Build(args);
await app.RunAsync();
