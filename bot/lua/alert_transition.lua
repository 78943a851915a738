-- Claim one alert-state transition: compare-and-set on the state's version, and queue the
-- Slack deliveries it causes in the same atomic step. Two bot processes that computed the
-- same transition race here; exactly one wins, so each transition is posted once.
-- KEYS[1]  state hash of the rule (fields: state = JSON, version = integer)
-- KEYS[2]  outbox list of the rule (JSON deliveries, oldest first)
-- KEYS[3]  outbox index set (rule ids with pending deliveries)
-- KEYS[4]  set of known rule ids
-- ARGV[1]  version the caller read ("0" when the hash did not exist)
-- ARGV[2]  new state JSON
-- ARGV[3]  rule id
-- ARGV[4..] deliveries to append (JSON)
-- returns the new version, or 0 when another process changed the state first
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
local version = current + 1
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'version', version)
redis.call('SADD', KEYS[4], ARGV[3])
if #ARGV > 3 then
  for i = 4, #ARGV do
    redis.call('RPUSH', KEYS[2], ARGV[i])
  end
  redis.call('SADD', KEYS[3], ARGV[3])
end
return version
