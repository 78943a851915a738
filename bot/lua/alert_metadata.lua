-- Processing metadata over a recent window, computed inside Redis so that only a few
-- numbers cross the wire: failed entries since a start id, and the p99 of `durationMs`
-- over the entries of a shorter, more recent window.
-- KEYS[1]  metadata stream (fields eventId, type, status, durationMs, group, consumer)
-- ARGV[1]  start id of the "failed" window (inclusive), e.g. "<now - 1 h>-0"
-- ARGV[2]  start of the p99 window, epoch ms (entries with an id at or after it)
-- ARGV[3]  cap: stop after scanning this many entries
-- ARGV[4]  keep at most this many durations (the most recent ones) for the p99
-- returns {failed, scanned, capped (0|1), p99 ms as a string or "", durations used}
local start, p99_from, cap, keep = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local failed, scanned, capped = 0, 0, 0
local ring, n = {}, 0
while true do
  local want = math.min(1000, cap - scanned)
  if want <= 0 then capped = 1 break end
  local rows = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', want)
  for _, row in ipairs(rows) do
    local f = row[2]
    local ms = tonumber(string.match(row[1], '^(%d+)'))
    for i = 1, #f, 2 do
      if f[i] == 'status' and f[i + 1] == 'failed' then
        failed = failed + 1
      elseif f[i] == 'durationMs' and ms >= p99_from then
        local d = tonumber(f[i + 1])
        if d then
          ring[(n % keep) + 1] = d
          n = n + 1
        end
      end
    end
  end
  scanned = scanned + #rows
  if #rows < want then break end
  start = '(' .. rows[#rows][1]
end
if #ring == 0 then
  return {failed, scanned, capped, '', 0}
end
table.sort(ring)
return {failed, scanned, capped, tostring(ring[math.max(1, math.ceil(0.99 * #ring))]), #ring}
