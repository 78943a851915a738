-- lease: take or release a job's lease, only as its owner (move_batch.lua renews it).
-- KEYS[1] lease key
-- ARGV[1] 'acquire' | 'release'   ARGV[2] owner token   ARGV[3] lease ms
-- Returns 1 when the caller holds (or released) the lease, 0 otherwise.
local owner = redis.call('GET', KEYS[1])
if ARGV[1] == 'acquire' then
  if owner and owner ~= ARGV[2] then return 0 end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
if owner ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
return 1
