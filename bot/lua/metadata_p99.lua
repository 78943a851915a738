#!lua flags=no-writes
-- The p99 of `durationMs` over the most recent metadata entries of a window, computed inside
-- Redis so only two numbers cross the wire; reads at most ARGV[2] entries (newest first).
-- KEYS[1]  metadata stream (fields eventId, type, status, durationMs, group, consumer)
-- ARGV[1]  start id of the window (inclusive), e.g. "<now - 15 min>-0"
-- ARGV[2]  COUNT: the most recent entries used at most
-- returns  {p99 ms as a string or "", durations used}
local rows = redis.call('XREVRANGE', KEYS[1], '+', ARGV[1], 'COUNT', tonumber(ARGV[2]))
local durations = {}
for _, row in ipairs(rows) do
  local f = row[2]
  for i = 1, #f, 2 do
    if f[i] == 'durationMs' then
      local d = tonumber(f[i + 1])
      if d then
        durations[#durations + 1] = d
      end
    end
  end
end
if #durations == 0 then
  return {'', 0}
end
table.sort(durations)
return {tostring(durations[math.max(1, math.ceil(0.99 * #durations))]), #durations}
