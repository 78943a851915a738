-- move_batch: one batch of a job (reprocess, replay, purge, restore), atomically.
-- KEYS[1] source stream     KEYS[2] target stream     KEYS[3] job hash
-- KEYS[4] job lease key     KEYS[5] set of moved envelope ids (written when a tag is given)
-- ARGV[1] job id            ARGV[2] lease owner token  ARGV[3] expected cursor ('' = none yet)
-- ARGV[4] new cursor        ARGV[5] delete from source ('1'/'0')
-- ARGV[6] body: 'event' (only the `event` field, or the override) | 'all' (every field)
-- ARGV[7] provenance field naming the source id (reprocessedFrom, replayOf, archivedFrom...)
-- ARGV[8] provenance field naming the job (reprocessJob, replayJob, archiveJob...)
-- ARGV[9] comma-separated fields dropped in 'all' mode   ARGV[10] lease ms   ARGV[11] now ms
-- ARGV[12..] triples, in id order: source entry id, override event JSON ('' = keep), tag ('' = none)
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

local function older(a, b)  -- stream id a before b
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not (am and bm) then return false end
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

-- A kind that keeps the source (replay) need not look each entry up: when nothing at or
-- after the batch's first id was ever deleted from the source (XINFO's max-deleted-entry-id,
-- Redis 7) and its first entry is not younger (the stream was not recreated), every entry
-- the runner read is still there. Otherwise, and on a Redis without the field, per entry.
local intact = false
if not delete and ARGV[12] then
  local info = redis.pcall('XINFO', 'STREAM', KEYS[1])
  if type(info) == 'table' and not info.err then
    local deleted, first = nil, nil
    for j = 1, #info, 2 do
      if info[j] == 'max-deleted-entry-id' then deleted = info[j + 1] end
      if info[j] == 'first-entry' and type(info[j + 1]) == 'table' then first = info[j + 1][1] end
    end
    intact = deleted ~= nil and first ~= nil and older(deleted, ARGV[12]) and not older(ARGV[12], first)
  end
end

-- The event is given (override): nothing to read, and no table per entry, on the path that
-- carries the bulk of a reprocess or a replay. XDEL's reply is the existence check.
local function given(id, override)
  local exists
  if delete then
    exists = redis.call('XDEL', KEYS[1], id) == 1
  else
    exists = intact or #redis.call('XRANGE', KEYS[1], id, id) == 1
  end
  if not exists then return false end
  redis.call('XADD', KEYS[2], '*', 'event', override, ARGV[7], id, ARGV[8], ARGV[1])
  return true
end

-- The entry is read here: every field ('all') or its `event`.
local function read(id, override)
  local found = redis.call('XRANGE', KEYS[1], id, id)
  if #found == 0 then return false end
  local f = found[1][2]
  local event = nil
  for j = 1, #f, 2 do if f[j] == 'event' then event = f[j + 1] end end
  if override ~= '' then event = override end
  local out
  if ARGV[6] == 'event' then
    if not event then return false end
    out = {'event', event}
  else
    out = {}
    if event then out[1] = 'event'; out[2] = event end
    for j = 1, #f, 2 do
      if f[j] ~= 'event' and not drop[f[j]] then
        out[#out + 1] = f[j]; out[#out + 1] = f[j + 1]
      end
    end
  end
  out[#out + 1] = ARGV[7]; out[#out + 1] = id
  out[#out + 1] = ARGV[8]; out[#out + 1] = ARGV[1]
  redis.call('XADD', KEYS[2], '*', unpack(out))
  if delete then redis.call('XDEL', KEYS[1], id) end
  return true
end

for i = 12, #ARGV, 3 do
  local id, override, tag = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local done
  if ARGV[6] == 'event' and override ~= '' then done = given(id, override) else done = read(id, override) end
  if done then
    moved = moved + 1
    if tag ~= '' then tags[#tags + 1] = tag end
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
