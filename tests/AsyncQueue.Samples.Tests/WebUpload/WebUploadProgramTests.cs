using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using WebUpload;

namespace AsyncQueue.Samples.Tests.WebUpload;

/// <summary>The sample as its page runs it: <c>dotnet run --project samples/WebUpload -- --port 0</c>, in its own process.</summary>
public sealed class WebUploadProgramTests : IDisposable
{
    // Hang guards only: nothing is timed.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Main_PortZero_ListensOnAFreePortServesAnUploadByTokenAndDeletesItsStorageOnStop()
    {
        // TMPDIR points the app's temporary storage folder at the test's own.
        var start = SampleProcess.StartInfo("WebUpload", ["--port", "0"], new Dictionary<string, string> { ["TMPDIR"] = _root.Path + Path.DirectorySeparatorChar });
        using var process = Process.Start(start)!;
        var log = new ConcurrentQueue<string>();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            var address = await ListeningAddressAsync(process, log);
            Assert.Single(Directory.GetDirectories(_root.Path, "asyncqueue-webupload-*"));

            using var client = new HttpClient { BaseAddress = address };
            using var form = new MultipartFormDataContent { { new ByteArrayContent("a photo"u8.ToArray()), UploadEndpoints.FileField, "photo.jpg" } };
            using var response = await client.PostAsync(new Uri("/files", UriKind.Relative), form);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var accepted = (await response.Content.ReadFromJsonAsync<UploadAccepted>())!;
            var status = (await client.GetFromJsonAsync<JobStatusResponse>(new Uri(accepted.StatusUrl, UriKind.Relative)))!;
            Assert.Equal(accepted.JobId, status.JobId);
        }
        finally
        {
            // SIGTERM, as Ctrl+C or a container stop sends: the host stops gracefully and the app deletes its folder.
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync().WaitAsync(HangGuard);
            }

            await process.WaitForExitAsync().WaitAsync(HangGuard);
        }

        Assert.True(process.ExitCode == 0, $"Exit code {process.ExitCode}.\n{string.Join('\n', log)}\n{await error}");
        Assert.Empty(Directory.GetFileSystemEntries(_root.Path));
    }

    // Reads the log until ASP.NET Core's "Now listening on: http://127.0.0.1:<port>" line.
    private static async Task<Uri> ListeningAddressAsync(Process process, ConcurrentQueue<string> log)
    {
        using var hangGuard = new CancellationTokenSource(HangGuard);
        const string marker = "Now listening on: ";
        while (await process.StandardOutput.ReadLineAsync(hangGuard.Token) is { } line)
        {
            log.Enqueue(line);
            var at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                var address = new Uri(line[(at + marker.Length)..].Trim());
                Assert.Equal("127.0.0.1", address.Host);
                Assert.NotEqual(UploadApp.DefaultPort, address.Port);

                // Keep draining stdout, so the app never blocks on a full pipe.
                _ = Task.Run(async () => { while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } more) { log.Enqueue(more); } }, CancellationToken.None);
                return address;
            }
        }

        throw new InvalidOperationException($"The app exited without listening. Its output:\n{string.Join('\n', log)}");
    }
}
