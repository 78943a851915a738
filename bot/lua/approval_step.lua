-- approval_step: move a guarded request from one state to the next, once.
-- KEYS[1] approval hash
-- ARGV[1] expected state   ARGV[2] new state   ARGV[3] now ms
-- ARGV[4..] field, value pairs to record with the step (confirmed_by, approved_by...)
-- Returns {1, new state} on success, {0, 'missing'} when the request is unknown or gone,
-- {0, 'expired'} after its expiry, {0, <current state>} when another click won.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 'missing'} end
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= ARGV[1] then return {0, state} end
if tonumber(redis.call('HGET', KEYS[1], 'expires')) <= tonumber(ARGV[3]) then
  return {0, 'expired'}
end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updated', ARGV[3])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {1, ARGV[2]}
