-- Health of a Knative Eventing object (Broker, Trigger, PingSource, SinkBinding, Sequence), from its
-- Ready condition. Argo CD has no built-in check for these kinds; without one a Broker counts
-- as Healthy as soon as it exists, and sync waves would not wait for it.
local hs = {}
if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for status"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. obj.metadata.generation
  return hs
end
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      if condition.status == "True" then
        hs.status = "Healthy"
        hs.message = "Ready"
      elseif condition.status == "False" then
        hs.status = "Degraded"
        hs.message = (condition.reason or "NotReady") .. ": " .. (condition.message or "")
      else
        hs.status = "Progressing"
        hs.message = condition.message or "Waiting for Ready"
      end
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
