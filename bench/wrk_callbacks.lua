-- wrk script for bench/callback_ingest.py: POST a prepared set of distinct callbacks.
--
--   wrk -t T -c C -d S -s bench/wrk_callbacks.lua http://127.0.0.1:PORT -- REQUEST_FILE T
--
-- REQUEST_FILE has one request per line, "path?query<TAB>body" (bench/events.py).
-- Thread k sends lines k, k+T, k+2T, ... in order; when its share runs out it starts
-- over (re-deliveries) and counts the wraps, which done() reports. done() prints one
-- line "WRK_JSON {...}" that the benchmark parses.

local thread_count = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local requests = {}
local n = 0
local i = 0
wraps = 0

function init(args)
  local file = args[1]
  local total_threads = tonumber(args[2] or "1")
  local me = tonumber(tid or 0)
  local line_no = 0
  local headers = { ["Content-Type"] = "text/xml" }
  for line in io.lines(file) do
    if line_no % total_threads == me then
      local tab = string.find(line, "\t", 1, true)
      local target = string.sub(line, 1, tab - 1)
      local body = string.sub(line, tab + 1)
      n = n + 1
      requests[n] = wrk.format("POST", target, headers, body)
    end
    line_no = line_no + 1
  end
  if n == 0 then
    error("no requests for thread " .. me .. " in " .. file)
  end
end

function request()
  i = i + 1
  if i > n then
    i = 1
    wraps = wraps + 1
  end
  return requests[i]
end

function done(summary, latency, req)
  local total_wraps = 0
  for _, t in ipairs(threads) do
    total_wraps = total_wraps + (tonumber(t:get("wraps")) or 0)
  end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"status_errors": %d, "timeouts": %d, "wraps": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, total_wraps,
    latency:percentile(50), latency:percentile(99), latency.max))
end
