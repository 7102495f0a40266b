package handlers

// Operations of the contract that are not built yet. Each answers 501 problem+json until the
// issue that builds it replaces the method here with a real one in the module's own file.

import (
	"context"

	"github.com/secuaas/secumon/gen/api"
)

func (*API) ListAlertPolicies(context.Context, api.ListAlertPoliciesRequestObject) (api.ListAlertPoliciesResponseObject, error) {
	return nil, notImplemented("listAlertPolicies")
}

func (*API) CreateAlertPolicy(context.Context, api.CreateAlertPolicyRequestObject) (api.CreateAlertPolicyResponseObject, error) {
	return nil, notImplemented("createAlertPolicy")
}

func (*API) DeleteAlertPolicy(context.Context, api.DeleteAlertPolicyRequestObject) (api.DeleteAlertPolicyResponseObject, error) {
	return nil, notImplemented("deleteAlertPolicy")
}

func (*API) GetAlertPolicy(context.Context, api.GetAlertPolicyRequestObject) (api.GetAlertPolicyResponseObject, error) {
	return nil, notImplemented("getAlertPolicy")
}

func (*API) UpdateAlertPolicy(context.Context, api.UpdateAlertPolicyRequestObject) (api.UpdateAlertPolicyResponseObject, error) {
	return nil, notImplemented("updateAlertPolicy")
}

func (*API) GetDashboard(context.Context, api.GetDashboardRequestObject) (api.GetDashboardResponseObject, error) {
	return nil, notImplemented("getDashboard")
}

func (*API) GetAppSecurityDashboard(context.Context, api.GetAppSecurityDashboardRequestObject) (api.GetAppSecurityDashboardResponseObject, error) {
	return nil, notImplemented("getAppSecurityDashboard")
}

func (*API) StreamEvents(context.Context, api.StreamEventsRequestObject) (api.StreamEventsResponseObject, error) {
	return nil, notImplemented("streamEvents")
}

func (*API) AiTagHosts(context.Context, api.AiTagHostsRequestObject) (api.AiTagHostsResponseObject, error) {
	return nil, notImplemented("aiTagHosts")
}

func (*API) AiTagHost(context.Context, api.AiTagHostRequestObject) (api.AiTagHostResponseObject, error) {
	return nil, notImplemented("aiTagHost")
}

func (*API) GetHostLogs(context.Context, api.GetHostLogsRequestObject) (api.GetHostLogsResponseObject, error) {
	return nil, notImplemented("getHostLogs")
}

func (*API) ListIncidents(context.Context, api.ListIncidentsRequestObject) (api.ListIncidentsResponseObject, error) {
	return nil, notImplemented("listIncidents")
}

func (*API) CreateIncident(context.Context, api.CreateIncidentRequestObject) (api.CreateIncidentResponseObject, error) {
	return nil, notImplemented("createIncident")
}

func (*API) GetIncident(context.Context, api.GetIncidentRequestObject) (api.GetIncidentResponseObject, error) {
	return nil, notImplemented("getIncident")
}

func (*API) QuickAckIncident(context.Context, api.QuickAckIncidentRequestObject) (api.QuickAckIncidentResponseObject, error) {
	return nil, notImplemented("quickAckIncident")
}

func (*API) AcknowledgeIncident(context.Context, api.AcknowledgeIncidentRequestObject) (api.AcknowledgeIncidentResponseObject, error) {
	return nil, notImplemented("acknowledgeIncident")
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

func (*API) QuickResolveIncident(context.Context, api.QuickResolveIncidentRequestObject) (api.QuickResolveIncidentResponseObject, error) {
	return nil, notImplemented("quickResolveIncident")
}

func (*API) ResolveIncident(context.Context, api.ResolveIncidentRequestObject) (api.ResolveIncidentResponseObject, error) {
	return nil, notImplemented("resolveIncident")
}

func (*API) AddIncidentUpdate(context.Context, api.AddIncidentUpdateRequestObject) (api.AddIncidentUpdateResponseObject, error) {
	return nil, notImplemented("addIncidentUpdate")
}

func (*API) ListMaintenanceWindows(context.Context, api.ListMaintenanceWindowsRequestObject) (api.ListMaintenanceWindowsResponseObject, error) {
	return nil, notImplemented("listMaintenanceWindows")
}

func (*API) CreateMaintenanceWindow(context.Context, api.CreateMaintenanceWindowRequestObject) (api.CreateMaintenanceWindowResponseObject, error) {
	return nil, notImplemented("createMaintenanceWindow")
}

func (*API) GetMaintenanceWindow(context.Context, api.GetMaintenanceWindowRequestObject) (api.GetMaintenanceWindowResponseObject, error) {
	return nil, notImplemented("getMaintenanceWindow")
}

func (*API) UpdateMaintenanceWindow(context.Context, api.UpdateMaintenanceWindowRequestObject) (api.UpdateMaintenanceWindowResponseObject, error) {
	return nil, notImplemented("updateMaintenanceWindow")
}

func (*API) CancelMaintenanceWindow(context.Context, api.CancelMaintenanceWindowRequestObject) (api.CancelMaintenanceWindowResponseObject, error) {
	return nil, notImplemented("cancelMaintenanceWindow")
}

func (*API) EndMaintenanceWindow(context.Context, api.EndMaintenanceWindowRequestObject) (api.EndMaintenanceWindowResponseObject, error) {
	return nil, notImplemented("endMaintenanceWindow")
}

func (*API) StartMaintenanceWindow(context.Context, api.StartMaintenanceWindowRequestObject) (api.StartMaintenanceWindowResponseObject, error) {
	return nil, notImplemented("startMaintenanceWindow")
}

func (*API) ListOncallSchedules(context.Context, api.ListOncallSchedulesRequestObject) (api.ListOncallSchedulesResponseObject, error) {
	return nil, notImplemented("listOncallSchedules")
}

func (*API) CreateOncallSchedule(context.Context, api.CreateOncallScheduleRequestObject) (api.CreateOncallScheduleResponseObject, error) {
	return nil, notImplemented("createOncallSchedule")
}

func (*API) DeleteOncallSchedule(context.Context, api.DeleteOncallScheduleRequestObject) (api.DeleteOncallScheduleResponseObject, error) {
	return nil, notImplemented("deleteOncallSchedule")
}

func (*API) GetOncallSchedule(context.Context, api.GetOncallScheduleRequestObject) (api.GetOncallScheduleResponseObject, error) {
	return nil, notImplemented("getOncallSchedule")
}

func (*API) UpdateOncallSchedule(context.Context, api.UpdateOncallScheduleRequestObject) (api.UpdateOncallScheduleResponseObject, error) {
	return nil, notImplemented("updateOncallSchedule")
}

func (*API) GetCurrentOncall(context.Context, api.GetCurrentOncallRequestObject) (api.GetCurrentOncallResponseObject, error) {
	return nil, notImplemented("getCurrentOncall")
}

func (*API) GetStatus(context.Context, api.GetStatusRequestObject) (api.GetStatusResponseObject, error) {
	return nil, notImplemented("getStatus")
}

func (*API) ListStatusPages(context.Context, api.ListStatusPagesRequestObject) (api.ListStatusPagesResponseObject, error) {
	return nil, notImplemented("listStatusPages")
}

func (*API) CreateStatusPage(context.Context, api.CreateStatusPageRequestObject) (api.CreateStatusPageResponseObject, error) {
	return nil, notImplemented("createStatusPage")
}

func (*API) DeleteStatusPage(context.Context, api.DeleteStatusPageRequestObject) (api.DeleteStatusPageResponseObject, error) {
	return nil, notImplemented("deleteStatusPage")
}

func (*API) GetStatusPage(context.Context, api.GetStatusPageRequestObject) (api.GetStatusPageResponseObject, error) {
	return nil, notImplemented("getStatusPage")
}

func (*API) UpdateStatusPage(context.Context, api.UpdateStatusPageRequestObject) (api.UpdateStatusPageResponseObject, error) {
	return nil, notImplemented("updateStatusPage")
}

func (*API) ListStorms(context.Context, api.ListStormsRequestObject) (api.ListStormsResponseObject, error) {
	return nil, notImplemented("listStorms")
}
