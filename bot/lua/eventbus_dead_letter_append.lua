-- Write one event to the DLQ at most once: the first step of dead-lettering when the DLQ
-- and the main stream are in different cluster slots. A marker next to the DLQ (one key per
-- source entry, in the DLQ's slot) records the DLQ entry id in the same call; a retry after
-- a crash, or another consumer dead-lettering the same entry, gets that id back and writes
-- nothing. The caller then acknowledges the entry in the main stream's slot.
-- KEYS[1] DLQ stream   KEYS[2] marker of this (group, entry id)
-- ARGV[1] event (raw JSON, first field)   ARGV[2] error   ARGV[3] errorStack
-- ARGV[4] movedAt (ISO-8601)   ARGV[5] attempts   ARGV[6] source entry id   ARGV[7] group
-- ARGV[8] marker lifetime, seconds
-- Returns {DLQ entry id, 1 when written by this call or 0 when it was there already}.
local done = redis.call('GET', KEYS[2])
if done then return {done, 0} end
local id = redis.call('XADD', KEYS[1], '*', 'event', ARGV[1], 'error', ARGV[2],
  'errorStack', ARGV[3], 'movedAt', ARGV[4], 'attempts', ARGV[5],
  'sourceId', ARGV[6], 'group', ARGV[7])
redis.call('SET', KEYS[2], id, 'EX', tonumber(ARGV[8]))
return {id, 1}
