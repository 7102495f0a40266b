package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/secuaas/secumon/client"
)

// The contract's bounds of HostCreate (openapi/secumon.yaml).
var (
	hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9.:_\[\]%-]+$`)
	hostTypes       = []string{"server", "vm", "container", "network", "website", "other"}
)

type hostResource struct {
	base
	importByID
}

func newHostResource() resource.Resource { return &hostResource{} }

type hostModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Hostname    types.String `tfsdk:"hostname"`
	HostType    types.String `tfsdk:"host_type"`
	Description types.String `tfsdk:"description"`
	Tags        types.Map    `tfsdk:"tags"`
	IsActive    types.Bool   `tfsdk:"is_active"`
	CreatedAt   types.String `tfsdk:"created_at"`
}

func (r *hostResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_host"
}

func (r *hostResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A monitored host. Deleting it deletes its checks and their results.",
		Attributes: map[string]schema.Attribute{
			"id": idAttribute(),
			"name": schema.StringAttribute{
				Required: true, Description: "Unique name in the workspace.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"hostname": schema.StringAttribute{
				Required: true, Description: "DNS name or IP address the checks target by default.",
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 255),
					stringvalidator.RegexMatches(hostnamePattern, "must be a DNS name or an IP address"),
				},
			},
			"host_type": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("server"),
				Description: "What kind of host this is: server (default), vm, container, network, website or other.",
				Validators:  []validator.String{stringvalidator.OneOf(hostTypes...)},
			},
			"description": schema.StringAttribute{
				Optional: true, Description: "Free text (at most 2000 characters).",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 2000)},
			},
			"tags": schema.MapAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default:     mapdefault.StaticValue(types.MapValueMust(types.StringType, map[string]attrValue{})),
				Description: "String labels (at most 64). Keys prefixed `ai:` are set by AI tagging.",
				Validators: []validator.Map{
					mapvalidator.SizeAtMost(64),
					mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(256)),
				},
			},
			"is_active": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				Description: "Inactive hosts are not probed. Default: true.",
			},
			"created_at": createdAtAttribute(),
		},
	}
}

func (r *hostResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan hostModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tags := mapOfStrings(ctx, plan.Tags, &resp.Diagnostics)
	ht := client.HostType(plan.HostType.ValueString())
	h, err := r.c.Hosts.Create(ctx, client.HostCreate{
		Name: plan.Name.ValueString(), Hostname: plan.Hostname.ValueString(), HostType: &ht,
		Description: strPtr(plan.Description), IsActive: boolPtr(plan.IsActive), Tags: (*client.Tags)(&tags),
	})
	if err != nil {
		apiError(&resp.Diagnostics, "creating host", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, hostState(h, &resp.Diagnostics))...)
}

func (r *hostResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state hostModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	h, err := r.c.Hosts.Get(ctx, id)
	if err != nil {
		notFoundRemoves(ctx, err, resp, "host")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, hostState(h, &resp.Diagnostics))...)
}

func (r *hostResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state hostModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	tags := mapOfStrings(ctx, plan.Tags, &resp.Diagnostics)
	ht := client.HostType(plan.HostType.ValueString())
	desc := plan.Description.ValueString() // "" clears a description removed from the configuration
	h, err := r.c.Hosts.Update(ctx, id, client.HostUpdate{
		Name: strPtr(plan.Name), Hostname: strPtr(plan.Hostname), HostType: &ht,
		Description: &desc, IsActive: boolPtr(plan.IsActive), Tags: (*client.Tags)(&tags),
	})
	if err != nil {
		apiError(&resp.Diagnostics, "updating host", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, hostState(h, &resp.Diagnostics))...)
}

func (r *hostResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state hostModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.Hosts.Delete(ctx, id); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "deleting host", err)
	}
}

// hostState is the state of a host as the API answered it.
func hostState(h *client.Host, diags *diag.Diagnostics) hostModel {
	t := map[string]string(h.Tags)
	if t == nil {
		t = map[string]string{} // no tags: an empty map, as the attribute's default
	}
	tags, d := types.MapValueFrom(context.Background(), types.StringType, t)
	diags.Append(d...)
	return hostModel{
		ID: types.StringValue(h.Id.String()), Name: types.StringValue(h.Name), Hostname: types.StringValue(h.Hostname),
		HostType: types.StringValue(string(h.HostType)), Description: stringOrNull(h.Description),
		Tags: tags, IsActive: types.BoolValue(h.IsActive), CreatedAt: timeString(h.CreatedAt),
	}
}

// idAttribute is every resource's id: the API's UUID, kept across plans.
func idAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Computed: true, Description: "The resource's id (a UUID); import by it.",
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}

// createdAtAttribute is every resource's creation time, RFC 3339.
func createdAtAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Computed: true, Description: "When the resource was created (RFC 3339, UTC).",
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}
