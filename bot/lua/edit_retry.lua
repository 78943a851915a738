-- edit_retry: retry an edited DLQ entry, atomically.
-- KEYS[1] DLQ stream    KEYS[2] DLQ archive stream    KEYS[3] main stream
-- ARGV[1] DLQ entry id  ARGV[2] its `event` as previewed (unchanged since, or nothing runs)
-- ARGV[3] the edited event JSON    ARGV[4] job id
-- Archives every field of the entry (`event` first, then `archivedFrom`, `archiveJob`), adds
-- the edited event to the main stream (`event` FIRST: consumers read it positionally; then
-- `editedFrom`, `editJob`) and deletes the entry from the DLQ.
-- Returns {1, new main-stream id} or {0, 'gone'|'changed'}.
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return {0, 'gone'} end
local f = found[1][2]
local event = nil
for i = 1, #f, 2 do if f[i] == 'event' then event = f[i + 1] end end
if event ~= ARGV[2] then return {0, 'changed'} end
local archived = {'event', event}
for i = 1, #f, 2 do
  if f[i] ~= 'event' and f[i] ~= 'archivedFrom' and f[i] ~= 'archiveJob' then
    archived[#archived + 1] = f[i]; archived[#archived + 1] = f[i + 1]
  end
end
archived[#archived + 1] = 'archivedFrom'; archived[#archived + 1] = ARGV[1]
archived[#archived + 1] = 'archiveJob'; archived[#archived + 1] = ARGV[4]
redis.call('XADD', KEYS[2], '*', unpack(archived))
local new_id = redis.call('XADD', KEYS[3], '*', 'event', ARGV[3], 'editedFrom', ARGV[1], 'editJob', ARGV[4])
redis.call('XDEL', KEYS[1], ARGV[1])
return {1, new_id}
