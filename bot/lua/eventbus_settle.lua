-- Settle a batch of handled entries: acknowledge each and record its outcome, atomically.
-- An entry another consumer already settled (XACK -> 0) gets no second record.
-- KEYS[1] events stream      KEYS[2] metadata stream     KEYS[3] worker counts hash
-- ARGV[1] group   ARGV[2] consumer   ARGV[3] metadata MAXLEN (approximate)
-- ARGV[4..] 6 values per entry: entry id, event id, type, status, duration ms, attempts
--           status "completed" writes a metadata entry; "unhandled" counts in KEYS[3]
-- Returns the number of entries acknowledged.
local acked = 0
for i = 4, #ARGV, 6 do
  local entry, status = ARGV[i], ARGV[i + 3]
  if redis.call('XACK', KEYS[1], ARGV[1], entry) == 1 then
    acked = acked + 1
    if status == 'unhandled' then
      redis.call('HINCRBY', KEYS[3], 'unhandled', 1)
      redis.call('HINCRBY', KEYS[3], 'unhandled:' .. ARGV[i + 2], 1)
    else
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*',
        'eventId', ARGV[i + 1], 'type', ARGV[i + 2], 'status', status,
        'durationMs', ARGV[i + 4], 'group', ARGV[1], 'consumer', ARGV[2],
        'entryId', entry, 'attempts', ARGV[i + 5])
    end
  end
end
return acked
