-- Acknowledge a batch of handled entries, in the main stream's slot only: the first step of
-- settling when the metadata stream and the worker's counters are in other cluster slots
-- (the caller then records the outcomes of the entries this call acknowledged).
-- KEYS[1] events stream
-- ARGV[1] group   ARGV[2..] entry ids
-- Returns, per entry id in order, 1 when this call acknowledged it, 0 when it was settled
-- elsewhere already (it gets no second record).
local out = {}
for i = 2, #ARGV do
  out[#out + 1] = redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
end
return out
