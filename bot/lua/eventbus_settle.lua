-- Settle a batch of handled entries: acknowledge each and record its outcome, atomically.
-- An entry another consumer already settled (XACK -> 0) gets no second record.
-- KEYS[1] events stream      KEYS[2] metadata stream     KEYS[3] worker counts hash
-- ARGV[1] group   ARGV[2] consumer   ARGV[3] metadata MAXLEN (approximate, once a batch)
-- ARGV[4] JSON array, one row per entry (one argument: far cheaper for the client to send
--         than six per entry): [entry id, event id, type, status, duration ms, attempts]
--         status "completed" writes a metadata entry; "unhandled" counts in KEYS[3]
-- Returns the number of entries acknowledged.
local acked, recorded = 0, 0
for _, row in ipairs(cjson.decode(ARGV[4])) do
  local entry, status = row[1], row[4]
  if redis.call('XACK', KEYS[1], ARGV[1], entry) == 1 then
    acked = acked + 1
    if status == 'unhandled' then
      redis.call('HINCRBY', KEYS[3], 'unhandled', 1)
      redis.call('HINCRBY', KEYS[3], 'unhandled:' .. row[3], 1)
    else
      recorded = recorded + 1
      redis.call('XADD', KEYS[2], '*',
        'eventId', row[2], 'type', row[3], 'status', status, 'durationMs', row[5],
        'group', ARGV[1], 'consumer', ARGV[2], 'entryId', entry, 'attempts', row[6])
    end
  end
end
if recorded > 0 then redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', ARGV[3]) end
return acked
