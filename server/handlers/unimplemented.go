package handlers

// Operations of the contract that are not built yet. Each answers 501 problem+json until the
// issue that builds it replaces the method here with a real one in the module's own file.

import (
	"context"

	"github.com/secuaas/secumon/gen/api"
)

func (*API) AiTagHosts(context.Context, api.AiTagHostsRequestObject) (api.AiTagHostsResponseObject, error) {
	return nil, notImplemented("aiTagHosts")
}

func (*API) AiTagHost(context.Context, api.AiTagHostRequestObject) (api.AiTagHostResponseObject, error) {
	return nil, notImplemented("aiTagHost")
}

func (*API) GetIncidentAiCost(context.Context, api.GetIncidentAiCostRequestObject) (api.GetIncidentAiCostResponseObject, error) {
	return nil, notImplemented("getIncidentAiCost")
}

func (*API) StopIncidentAiMode(context.Context, api.StopIncidentAiModeRequestObject) (api.StopIncidentAiModeResponseObject, error) {
	return nil, notImplemented("stopIncidentAiMode")
}

func (*API) StartIncidentAiMode(context.Context, api.StartIncidentAiModeRequestObject) (api.StartIncidentAiModeResponseObject, error) {
	return nil, notImplemented("startIncidentAiMode")
}
