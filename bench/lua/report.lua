-- Put after every scenario script: prints the run's figures as one JSON line for run.py.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %.0f, "duration_us": %.0f, "connect": %.0f, "read": %.0f, '
         .. '"write": %.0f, "status": %.0f, "timeout": %.0f, "p50_us": %.0f, "p99_us": %.0f}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99)))
end
