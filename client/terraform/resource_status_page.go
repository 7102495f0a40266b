package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

type statusPageResource struct {
	base
	importByID
}

func newStatusPageResource() resource.Resource { return &statusPageResource{} }

type statusPageModel struct {
	ID              types.String          `tfsdk:"id"`
	Slug            types.String          `tfsdk:"slug"`
	Title           types.String          `tfsdk:"title"`
	Description     types.String          `tfsdk:"description"`
	IsPublic        types.Bool            `tfsdk:"is_public"`
	ShowHistoryDays types.Int64           `tfsdk:"show_history_days"`
	Components      []statusPageComponent `tfsdk:"components"`
	CreatedAt       types.String          `tfsdk:"created_at"`
}

type statusPageComponent struct {
	Name    types.String `tfsdk:"name"`
	Group   types.String `tfsdk:"group"`
	Order   types.Int64  `tfsdk:"order"`
	HostID  types.String `tfsdk:"host_id"`
	CheckID types.String `tfsdk:"check_id"`
}

func (r *statusPageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_status_page"
}

func (r *statusPageResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	one := stringvalidator.ExactlyOneOf(path.MatchRelative().AtParent().AtName("host_id"), path.MatchRelative().AtParent().AtName("check_id"))
	resp.Schema = schema.Schema{
		Description: "A status page, served at /status/<slug>, with its components (hosts or checks under display names).",
		Attributes: map[string]schema.Attribute{
			"id": idAttribute(),
			"slug": schema.StringAttribute{
				Required: true, Description: "URL-safe identifier (lower-case letters, digits and dashes), unique across workspaces.",
				Validators: []validator.String{stringvalidator.RegexMatches(slugPattern, "must be lower-case letters, digits and dashes, at most 64")},
			},
			"title": schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
			"description": schema.StringAttribute{
				Optional: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 2000)},
			},
			"is_public": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				Description: "Whether /status/<slug> serves the page without a token. Default: true.",
			},
			"show_history_days": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(90),
				Validators:  []validator.Int64{int64validator.Between(1, 365)},
				Description: "Days of history the page shows (1–365). Default: 90.",
			},
			"components": schema.ListNestedAttribute{
				Optional: true, Description: "The page's components, in order; each shows one host or one check.",
				Validators: []validator.List{listvalidator.SizeAtMost(200)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":     schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
					"group":    schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}, Description: "Heading the component is listed under."},
					"order":    schema.Int64Attribute{Optional: true, Validators: []validator.Int64{int64validator.Between(0, 100000)}, Description: "Position, lowest first; defaults to the position in the list."},
					"host_id":  schema.StringAttribute{Optional: true, Validators: []validator.String{uuidValidator{}, one}, Description: "The host shown (exactly one of host_id and check_id)."},
					"check_id": schema.StringAttribute{Optional: true, Validators: []validator.String{uuidValidator{}}, Description: "The check shown."},
				}},
			},
			"created_at": createdAtAttribute(),
		},
	}
}

// components turns the plan's components into the API's, reusing the ids the page had at the
// same positions so that component ids (used by badge URLs) survive an update.
func components(in []statusPageComponent, prev []client.StatusPageComponent, diags *diag.Diagnostics) *[]client.StatusPageComponent {
	out := make([]client.StatusPageComponent, 0, len(in))
	for i, c := range in {
		sc := client.StatusPageComponent{Name: c.Name.ValueString(), Group: strPtr(c.Group), Order: intPtr(c.Order)}
		if i < len(prev) {
			sc.Id = prev[i].Id
		}
		for _, ref := range []struct {
			v   types.String
			dst **uuid.UUID
		}{{c.HostID, &sc.HostId}, {c.CheckID, &sc.CheckId}} {
			if s := strPtr(ref.v); s != nil {
				id, err := uuid.Parse(*s)
				if err != nil {
					diags.AddError("Invalid component id", err.Error())
				}
				*ref.dst = &id
			}
		}
		out = append(out, sc)
	}
	return &out
}

func (r *statusPageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan statusPageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	comps := components(plan.Components, nil, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.c.StatusPages.Create(ctx, client.StatusPageCreate{
		Slug: plan.Slug.ValueString(), Title: plan.Title.ValueString(), Description: strPtr(plan.Description),
		IsPublic: boolPtr(plan.IsPublic), ShowHistoryDays: intPtr(plan.ShowHistoryDays), Components: comps,
	})
	if err != nil {
		apiError(&resp.Diagnostics, "creating status page", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, statusPageState(p, plan))...)
}

func (r *statusPageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state statusPageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.c.StatusPages.Get(ctx, id)
	if err != nil {
		notFoundRemoves(ctx, err, resp, "status page")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, statusPageState(p, state))...)
}

func (r *statusPageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state statusPageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	cur, err := r.c.StatusPages.Get(ctx, id)
	if err != nil {
		apiError(&resp.Diagnostics, "reading status page", err)
		return
	}
	comps := components(plan.Components, cur.Components, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	desc, slug := plan.Description.ValueString(), plan.Slug.ValueString()
	p, err := r.c.StatusPages.Update(ctx, id, client.StatusPageUpdate{
		Slug: &slug, Title: strPtr(plan.Title), Description: &desc,
		IsPublic: boolPtr(plan.IsPublic), ShowHistoryDays: intPtr(plan.ShowHistoryDays), Components: comps,
	})
	if err != nil {
		apiError(&resp.Diagnostics, "updating status page", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, statusPageState(p, plan))...)
}

func (r *statusPageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state statusPageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.StatusPages.Delete(ctx, id); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "deleting status page", err)
	}
}

// statusPageState is the page as the API answered it; a component's order the configuration
// left out stays null when the API's is its position (the API's default).
func statusPageState(p *client.StatusPage, prior statusPageModel) statusPageModel {
	m := statusPageModel{
		ID: types.StringValue(p.Id.String()), Slug: types.StringValue(p.Slug), Title: types.StringValue(p.Title),
		Description: stringOrNull(p.Description), IsPublic: types.BoolValue(p.IsPublic),
		ShowHistoryDays: types.Int64Value(int64(p.ShowHistoryDays)), CreatedAt: types.StringNull(),
	}
	if p.CreatedAt != nil {
		m.CreatedAt = timeString(*p.CreatedAt)
	}
	if len(p.Components) == 0 && prior.Components == nil {
		return m
	}
	m.Components = []statusPageComponent{}
	for i, c := range p.Components {
		sc := statusPageComponent{Name: types.StringValue(c.Name), Group: stringOrNull(c.Group),
			Order: types.Int64Null(), HostID: types.StringNull(), CheckID: types.StringNull()}
		if c.HostId != nil {
			sc.HostID = types.StringValue(c.HostId.String())
		}
		if c.CheckId != nil {
			sc.CheckID = types.StringValue(c.CheckId.String())
		}
		if c.Order != nil {
			// (an import has no prior components: it takes the same default)
			priorNull := i >= len(prior.Components) || prior.Components[i].Order.IsNull()
			if !(priorNull && *c.Order == i) {
				sc.Order = types.Int64Value(int64(*c.Order))
			}
		}
		m.Components = append(m.Components, sc)
	}
	return m
}
