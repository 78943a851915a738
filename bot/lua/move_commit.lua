-- move_commit: second step of a batch moved between two hash slots, run in the SOURCE's
-- slot after move_copy.lua recorded every id of the batch in the target's slot: delete the
-- entries from the source (when the kind deletes), count them, advance the job's cursor,
-- all under the job's lease. A job being cancelled still completes the batch it copied.
-- KEYS[1] source stream   KEYS[2] job hash   KEYS[3] job lease key
-- KEYS[4] set of moved envelope ids (written when a tag is given)
-- ARGV[1] lease owner token   ARGV[2] expected cursor ('' = none yet)   ARGV[3] new cursor
-- ARGV[4] delete from source ('1'/'0')   ARGV[5] lease ms   ARGV[6] now ms
-- ARGV[7] entries skipped (selected, nothing to write)
-- ARGV[8..] pairs: source entry id, tag ('' = none)
-- Returns {moved, skipped} or {-1, cursor} (cursor moved on: batch already committed),
-- {-2, status} (job ended), {-3, owner} (lease lost).
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return {-3, tostring(redis.call('GET', KEYS[3]))}
end
local status = redis.call('HGET', KEYS[2], 'status')
if status ~= 'RUNNING' and status ~= 'CANCELLING' then return {-2, tostring(status)} end
local cursor = redis.call('HGET', KEYS[2], 'cursor') or ''
if cursor ~= ARGV[2] then return {-1, cursor} end
local moved = 0
for i = 8, #ARGV, 2 do
  if ARGV[4] == '1' then redis.call('XDEL', KEYS[1], ARGV[i]) end
  if ARGV[i + 1] ~= '' then redis.call('SADD', KEYS[4], ARGV[i + 1]) end
  moved = moved + 1
end
local skipped = tonumber(ARGV[7])
redis.call('HINCRBY', KEYS[2], 'moved', moved)
redis.call('HINCRBY', KEYS[2], 'skipped', skipped)
redis.call('HSET', KEYS[2], 'cursor', ARGV[3], 'updated', ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return {moved, skipped}
