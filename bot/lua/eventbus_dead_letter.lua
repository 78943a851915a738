-- Move one pending entry to the dead-letter stream: XADD to the DLQ, XACK the original,
-- drop its retry schedule and record a `failed` metadata entry, all or nothing. Only the
-- consumer that owns the pending entry may do it, so a re-delivered entry is
-- dead-lettered at most once.
-- KEYS[1] events stream   KEYS[2] DLQ stream   KEYS[3] metadata stream
-- KEYS[4] retry schedule (sorted set of entry ids)
-- ARGV[1] group  ARGV[2] consumer  ARGV[3] entry id  ARGV[4] event (raw JSON, first field)
-- ARGV[5] error  ARGV[6] errorStack  ARGV[7] movedAt (ISO-8601)  ARGV[8] attempts
-- ARGV[9] event id  ARGV[10] type  ARGV[11] duration ms  ARGV[12] metadata MAXLEN (~)
-- Returns the DLQ entry id; 0 if the entry is no longer pending (already settled);
-- -1 if another consumer owns it now (it was claimed from us).
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 then return 0 end
if p[1][2] ~= ARGV[2] then return -1 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[3])
local id = redis.call('XADD', KEYS[2], '*', 'event', ARGV[4], 'error', ARGV[5],
  'errorStack', ARGV[6], 'movedAt', ARGV[7], 'attempts', ARGV[8],
  'sourceId', ARGV[3], 'group', ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[12], '*',
  'eventId', ARGV[9], 'type', ARGV[10], 'status', 'failed', 'durationMs', ARGV[11],
  'group', ARGV[1], 'consumer', ARGV[2], 'entryId', ARGV[3], 'attempts', ARGV[8])
return id
