#!lua flags=no-writes
-- One step over the processing metadata stream: count `status=failed` entries, and return
-- the `durationMs` of entries at or after the p99 window's start, so a caller reads an hour
-- of metadata in short calls that never block Redis for long.
-- KEYS[1]  metadata stream (fields eventId, type, status, durationMs, group, consumer)
-- ARGV[1]  start id (inclusive, or "(" exclusive)
-- ARGV[2]  COUNT: entries read at most in this call
-- ARGV[3]  start of the p99 window, epoch ms
-- returns  {failed, entries read, last id read or "", duration, duration, ...}
local rows = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))
local p99_from = tonumber(ARGV[3])
local out = {0, #rows, ''}
for _, row in ipairs(rows) do
  local f = row[2]
  local recent = tonumber(string.match(row[1], '^(%d+)')) >= p99_from
  for i = 1, #f, 2 do
    if f[i] == 'status' and f[i + 1] == 'failed' then
      out[1] = out[1] + 1
    elseif recent and f[i] == 'durationMs' and tonumber(f[i + 1]) then
      out[#out + 1] = f[i + 1]
    end
  end
end
if #rows > 0 then
  out[3] = rows[#rows][1]
end
return out
