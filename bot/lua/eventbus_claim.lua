-- Take over pending entries that are due for another attempt:
--  1. entries whose retry time has come (retry schedule score <= now), and
--  2. entries idle past min-idle (their consumer died), found with XAUTOCLAIM JUSTID,
--     except those waiting in the retry schedule (they are not due yet).
-- Each is then XCLAIMed (which counts a delivery) and returned with its delivery count,
-- so the caller can give up on an entry delivered too often (a poison event).
-- KEYS[1] events stream   KEYS[2] retry schedule (sorted set: entry id -> due ms)
-- ARGV[1] group  ARGV[2] consumer  ARGV[3] now ms  ARGV[4] min idle ms
-- ARGV[5] XAUTOCLAIM cursor ('0-0' to start)  ARGV[6] max entries per kind
-- Returns {next cursor, {entry id, deliveries, {field, value, ...}}, ...}
local out = {}

local function take(id)
  local e = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
  if type(e[1]) ~= 'table' or type(e[1][2]) ~= 'table' then return end  -- entry deleted
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  out[#out + 1] = {id, p[1][4], e[1][2]}
end

local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3], 'LIMIT', 0, ARGV[6])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  take(id)
end

local ac = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], ARGV[5],
  'COUNT', ARGV[6], 'JUSTID')
for _, id in ipairs(ac[2]) do
  if not redis.call('ZSCORE', KEYS[2], id) then take(id) end
end
for _, id in ipairs(ac[3] or {}) do redis.call('ZREM', KEYS[2], id) end
return {ac[1], unpack(out)}
