-- HTTP pipelining: each write carries <depth> requests (wrk ... -s wrk-pipeline.lua URL -- <depth>),
-- so the load generator spends less per request than the server it measures. wrk counts every
-- response. The summary comes from wrk-summary.lua, next to this file.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "wrk-summary.lua")

init = function(args)
  local depth = tonumber(args[1] or "1")
  local requests = {}
  for i = 1, depth do requests[i] = wrk.format() end
  pipelined = table.concat(requests)
end

request = function()
  return pipelined
end
