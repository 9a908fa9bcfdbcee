-- Prints wrk's own summary as one JSON line so the bench never parses wrk's human output.
-- Latencies are wrk's histogram values in microseconds; errors.status counts responses >= 400.
-- cpuTicks is wrk's own CPU time (utime + stime of all its threads, in USER_HZ ticks) from
-- /proc/self/stat, so the figure is right wherever wrk runs (host or the generator container).
local function cpu_ticks()
  local f = io.open("/proc/self/stat", "r")
  if f == nil then return -1 end
  local text = f:read("*a")
  f:close()
  local rest = text:match("%) (.*)$")
  if rest == nil then return -1 end
  local fields = {}
  for field in rest:gmatch("%S+") do fields[#fields + 1] = field end
  -- after the command name: state is field 1, utime field 12, stime field 13
  return (tonumber(fields[12]) or 0) + (tonumber(fields[13]) or 0)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'OPTIVOLT_WRK_JSON {"durationUs":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%f},"cpuTicks":%d}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    cpu_ticks()))
end
