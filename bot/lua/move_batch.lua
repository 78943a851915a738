-- move_batch: one batch of a job (reprocess, replay, purge, restore), atomically.
-- KEYS[1] source stream     KEYS[2] target stream     KEYS[3] job hash
-- KEYS[4] job lease key     KEYS[5] set of moved envelope ids (written when a tag is given)
-- ARGV[1] job id            ARGV[2] lease owner token  ARGV[3] expected cursor ('' = none yet)
-- ARGV[4] new cursor        ARGV[5] delete from source ('1'/'0')
-- ARGV[6] body: 'event' (only the `event` field, or the override) | 'all' (every field)
-- ARGV[7] provenance field naming the source id (reprocessedFrom, replayOf, archivedFrom...)
-- ARGV[8] provenance field naming the job (reprocessJob, replayJob, archiveJob...)
-- ARGV[9] comma-separated fields dropped in 'all' mode   ARGV[10] lease ms   ARGV[11] now ms
-- ARGV[12..] triples: source entry id, override event JSON ('' = keep), tag ('' = none)
-- In 'event' mode with an override, the entry's fields are not read: the override is what
-- is written, and the entry only has to exist (XDEL's reply says so when the kind deletes).
-- Returns {moved, skipped} or {-1, cursor} (cursor moved on: batch already done),
-- {-2, status} (job not RUNNING), {-3, owner} (lease lost).
-- `event` is always written FIRST: the platform's consumers read it positionally.
local job = KEYS[3]
if redis.call('GET', KEYS[4]) ~= ARGV[2] then
  return {-3, tostring(redis.call('GET', KEYS[4]))}
end
local status = redis.call('HGET', job, 'status')
if status ~= 'RUNNING' then return {-2, tostring(status)} end
local cursor = redis.call('HGET', job, 'cursor') or ''
if cursor ~= ARGV[3] then return {-1, cursor} end

local drop = {}
for name in string.gmatch(ARGV[9], '[^,]+') do drop[name] = true end
drop[ARGV[7]] = true
drop[ARGV[8]] = true

local moved, skipped, tags = 0, 0, {}
local delete = ARGV[5] == '1'
for i = 12, #ARGV, 3 do
  local id, override, tag = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local out, deleted = nil, false
  if ARGV[6] == 'event' and override ~= '' then
    if delete then
      deleted = redis.call('XDEL', KEYS[1], id) == 1
      if deleted then out = {'event', override} end
    elseif #redis.call('XRANGE', KEYS[1], id, id) == 1 then
      out = {'event', override}
    end
  else
    local found = redis.call('XRANGE', KEYS[1], id, id)
    if #found == 1 then
      local f = found[1][2]
      local event = nil
      for j = 1, #f, 2 do if f[j] == 'event' then event = f[j + 1] end end
      if override ~= '' then event = override end
      if ARGV[6] == 'event' then
        if event then out = {'event', event} end
      else
        out = {}
        if event then out[1] = 'event'; out[2] = event end
        for j = 1, #f, 2 do
          if f[j] ~= 'event' and not drop[f[j]] then
            out[#out + 1] = f[j]; out[#out + 1] = f[j + 1]
          end
        end
      end
    end
  end
  if out then
    out[#out + 1] = ARGV[7]; out[#out + 1] = id
    out[#out + 1] = ARGV[8]; out[#out + 1] = ARGV[1]
    redis.call('XADD', KEYS[2], '*', unpack(out))
    if delete and not deleted then redis.call('XDEL', KEYS[1], id) end
    if tag ~= '' then tags[#tags + 1] = tag end
    moved = moved + 1
  else
    skipped = skipped + 1
  end
end
for j = 1, #tags, 1000 do
  redis.call('SADD', KEYS[5], unpack(tags, j, math.min(j + 999, #tags)))
end
redis.call('HINCRBY', job, 'moved', moved)
redis.call('HINCRBY', job, 'skipped', skipped)
redis.call('HSET', job, 'cursor', ARGV[4], 'updated', ARGV[11])
redis.call('PEXPIRE', KEYS[4], ARGV[10])
return {moved, skipped}
