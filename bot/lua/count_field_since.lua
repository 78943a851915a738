-- Count the entries of a stream from a start id on, optionally only those whose field
-- ARGV[3] equals ARGV[4]; reads in chunks inside Redis so only three numbers cross the wire.
-- KEYS[1]  stream
-- ARGV[1]  start id (inclusive), e.g. "1764000000000-0" for "since that millisecond"
-- ARGV[2]  cap: stop after scanning this many entries
-- ARGV[3]  field name to match, or "" to count every entry
-- ARGV[4]  field value to match
-- returns {matched, scanned, capped (0|1)}
local start, cap, field, want = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local matched, scanned = 0, 0
local chunk = 1000
while scanned < cap do
  local n = math.min(chunk, cap - scanned)
  local rows = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', n)
  for _, row in ipairs(rows) do
    if field == '' then
      matched = matched + 1
    else
      local f = row[2]
      for i = 1, #f, 2 do
        if f[i] == field then
          if f[i + 1] == want then matched = matched + 1 end
          break
        end
      end
    end
  end
  scanned = scanned + #rows
  if #rows < n then return {matched, scanned, 0} end
  start = '(' .. rows[#rows][1]
end
return {matched, scanned, 1}
