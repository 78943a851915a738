-- move_copy: first step of a batch moved between two hash slots (Redis Cluster), run in
-- the TARGET's slot: append each entry unless its source id was already written by this
-- job, and record the id in the same call. Rerunning it (a crash before the second step,
-- a runner that lost its lease) writes nothing twice. move_commit.lua is the second step.
-- KEYS[1] target stream     KEYS[2] set of source ids this job wrote to the target
-- ARGV[1..] per entry: source id, n, then n strings (field, value, ...; `event` first)
-- Returns the number of entries appended, or -1 when the job has ended (the set holds
-- '~closed'): a runner that woke up after the end writes nothing.
if redis.call('SISMEMBER', KEYS[2], '~closed') == 1 then return -1 end
local i, appended = 1, 0
while i <= #ARGV do
  local id, n = ARGV[i], tonumber(ARGV[i + 1])
  if redis.call('SISMEMBER', KEYS[2], id) == 0 then
    redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 2, i + 1 + n))
    redis.call('SADD', KEYS[2], id)
    appended = appended + 1
  end
  i = i + 2 + n
end
return appended
