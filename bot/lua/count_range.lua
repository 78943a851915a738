#!lua flags=no-writes
-- Count the entries of a stream between two ids, at most COUNT of them in one call,
-- so a caller can count a large range in short steps that never block Redis for long.
-- KEYS[1]  stream
-- ARGV[1]  start id (inclusive, or "(" exclusive)
-- ARGV[2]  end id (inclusive)
-- ARGV[3]  COUNT: entries counted at most in this call
-- returns  {n, last id counted or ""}
local rows = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[3]))
local n = #rows
if n == 0 then
  return {0, ''}
end
return {n, rows[n][1]}
