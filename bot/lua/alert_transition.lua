-- Claim one alert-state transition: compare-and-set on the state's version, and queue the
-- Slack deliveries it causes in the same atomic step. Two bot processes that computed the
-- same transition race here; exactly one wins, so each transition is posted once.
-- Both keys are in one hash slot (the outbox key carries the state key as its hash tag);
-- the index sets are updated by the caller around this call (bot/alerts/state.py).
-- KEYS[1]  state hash of the rule (fields: state = JSON, version = integer)
-- KEYS[2]  outbox list of the rule (JSON deliveries, oldest first)
-- ARGV[1]  version the caller read ("0" when the hash did not exist)
-- ARGV[2]  new state JSON
-- ARGV[3..] deliveries to append (JSON)
-- returns the new version, or 0 when another process changed the state first
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
local version = current + 1
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'version', version)
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
return version
