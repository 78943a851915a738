-- scan_batch: one read of a job's source that leaves behind, inside Redis, the entries that
-- cannot match the job's filter, so only candidates cross the network. The runner still
-- decides each candidate with the same Python code as the preview; this script only drops
-- entries that provably fail it:
-- an `event` without a backslash holds every string literally, so an event whose type is T
-- contains the text "T" (quotes included) somewhere. An event with a backslash is always
-- returned (its strings may be escaped), as is, in 'all' mode, an entry without `event`.
-- KEYS[1] source stream
-- ARGV[1] start (an id, or '(' + id: exclusive)   ARGV[2] upper id (inclusive)
-- ARGV[3] entries examined at most
-- ARGV[4] 'event': return the `event` field only, and drop entries without one
--         'all': return every field
-- ARGV[5] number of needle groups; then per group: n, then n needles (JSON string literals).
--         An entry is returned when each group has a needle found in its `event`.
-- Returns {last id examined ('' when the range is empty), id, fields, id, fields, ...}, where
-- fields is the entry's `event` string in 'event' mode and its flat field list in 'all' mode.
local rows = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[3]))
if #rows == 0 then return {''} end
local groups, i = {}, 6
for _ = 1, tonumber(ARGV[5]) do
  local n, g = tonumber(ARGV[i]), {}
  for j = 1, n do g[j] = ARGV[i + j] end
  groups[#groups + 1] = g
  i = i + n + 1
end
local only_event = ARGV[4] == 'event'
local find = string.find
local out = {rows[#rows][1]}
for _, row in ipairs(rows) do
  local f, event = row[2], nil
  for j = 1, #f, 2 do  -- the last `event` of a repeated field, as the runner's dict keeps it
    if f[j] == 'event' then event = f[j + 1] end
  end
  local keep
  if event == nil then
    keep = not only_event
  elseif #groups == 0 or find(event, '\\', 1, true) then
    keep = true
  else
    keep = true
    for _, g in ipairs(groups) do
      local hit = false
      for _, needle in ipairs(g) do
        if find(event, needle, 1, true) then hit = true; break end
      end
      if not hit then keep = false; break end
    end
  end
  if keep then
    out[#out + 1] = row[1]
    out[#out + 1] = only_event and event or f
  end
end
return out
