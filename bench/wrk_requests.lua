-- wrk script for the benchmarks: send a prepared list of requests in turn.
--
--   wrk -t T -c C -d S -s bench/wrk_requests.lua http://127.0.0.1:PORT -- REQUEST_FILE T
--
-- REQUEST_FILE has one request per line, "METHOD<TAB>target<TAB>body" followed by any
-- number of "<TAB>Name: value" headers (bench/loadgen.py write_request_file): distinct
-- signed callbacks, or the same GET with each member's bearer token.
-- Thread k sends lines k, k+T, k+2T, ... in order; when its share runs out it starts
-- over and counts the wraps, which done() reports. With WRK_COUNT_STATUSES=1 in the
-- environment every answer's status is tallied too (wrk then hands each response to
-- Lua, which slows it down a little). done() prints one line "WRK_JSON {...}" that the
-- benchmark parses.

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
statuses = {}

local function split_tabs(line)
  local fields = {}
  local start = 1
  while true do
    local tab = string.find(line, "\t", start, true)
    if tab == nil then
      table.insert(fields, string.sub(line, start))
      return fields
    end
    table.insert(fields, string.sub(line, start, tab - 1))
    start = tab + 1
  end
end

function init(args)
  local file = args[1]
  local total_threads = tonumber(args[2] or "1")
  local me = tonumber(tid or 0)
  local line_no = 0
  for line in io.lines(file) do
    if line_no % total_threads == me then
      local fields = split_tabs(line)
      local headers = {}
      for h = 4, #fields do
        local colon = string.find(fields[h], ": ", 1, true)
        headers[string.sub(fields[h], 1, colon - 1)] = string.sub(fields[h], colon + 2)
      end
      local body = fields[3]
      if body == "" then
        body = nil
      end
      n = n + 1
      requests[n] = wrk.format(fields[1], fields[2], headers, body)
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

if os.getenv("WRK_COUNT_STATUSES") == "1" then
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, req)
  local total_wraps = 0
  local by_status = {}
  for _, t in ipairs(threads) do
    total_wraps = total_wraps + (tonumber(t:get("wraps")) or 0)
    for status, count in pairs(t:get("statuses") or {}) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"status_errors": %d, "timeouts": %d, "wraps": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, total_wraps,
    latency:percentile(50), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end
