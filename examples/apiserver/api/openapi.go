package api

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantry/tenantry/web"
)

// schema is a JSON Schema (2020-12, OpenAPI 3.1's dialect) as data.
type schema = map[string]any

func ref(name string) schema  { return schema{"$ref": "#/components/schemas/" + name} }
func arr(items schema) schema { return schema{"type": "array", "items": items} }
func str() schema             { return schema{"type": "string"} }
func boolean() schema         { return schema{"type": "boolean"} }
func integer() schema         { return schema{"type": "integer", "minimum": 0} }
func dateTime() schema        { return schema{"type": "string", "format": "date-time"} }

// obj is an object schema with the given properties, all required, and no others.
func obj(props schema) schema {
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	slices.Sort(req)
	return schema{"type": "object", "properties": props, "required": req, "additionalProperties": false}
}

// input is an object schema for a request body: no property required unless named.
func input(props schema, required ...string) schema {
	s := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func page(items schema) schema {
	return obj(schema{"items": arr(items), "next_cursor": str()})
}

// schemas are the components of the OpenAPI document: every request and response
// body of the API.
func schemas() schema {
	level := schema{"type": "integer", "enum": []int{10, 100, 1000}}
	levelIn := schema{"oneOf": []schema{{"type": "integer", "enum": []int{0, 10, 100, 1000}}, {"type": "string"}}}
	idIn := schema{"oneOf": []schema{{"type": "integer", "minimum": 0}, {"type": "string"}}}
	resource := obj(schema{"resource_id": ref("ID"), "resource_type": str(), "access_level": level})
	resourceIn := input(schema{"resource_id": idIn, "resource_type": str(), "access_level": levelIn}, "resource_id", "resource_type")
	token := obj(schema{
		"id": ref("ID"), "name": str(), "last_4_digits": str(), "created_by": str(),
		"expires_at": schema{"type": []string{"string", "null"}, "format": "date-time"},
		"resources":  arr(ref("Resource")),
		"token":      str(),
	})
	token["required"] = []string{"created_by", "expires_at", "id", "last_4_digits", "name", "resources"}
	expires := schema{"type": []string{"string", "null"}, "description": `an RFC 3339 time; null or "never" for a token that never expires`}
	profileOut := obj(schema{
		"id": ref("ID"), "email": str(), "name": str(), "time_zone": str(), "two_factor_authentication_enabled": boolean(),
		"oauth": arr(ref("OAuth")), "created_at": dateTime(),
	})
	removed := obj(schema{"id": ref("ID"), "ownership_transferred_to": schema{"oneOf": []schema{ref("ID"), {"type": "null"}}}, "data_preserved": schema{"const": true}})
	return schema{
		"ID": schema{"type": "integer", "minimum": 0, "maximum": maxSafe, "description": "an ID, a JSON number as the platform's SDKs type it"},
		"Error": schema{
			"type":     "object",
			"required": []string{"errors"},
			"properties": schema{
				"errors": schema{"oneOf": []schema{str(), {"type": "object", "additionalProperties": arr(str())}}},
				"rule":   str(),
				"reason": str(),
			},
			"additionalProperties": false,
		},
		"OpenAPI":          schema{"type": "object", "required": []string{"openapi", "paths"}},
		"Account":          obj(schema{"id": ref("ID"), "name": str(), "access_levels": arr(level)}),
		"AccountList":      arr(ref("Account")),
		"Resource":         resource,
		"ResourceInput":    resourceIn,
		"Access":           obj(schema{"id": ref("ID"), "specifier_type": schema{"enum": []string{"User", "Invite"}}, "specifier": ref("Specifier"), "resources": arr(ref("Resource")), "permissions": ref("Permissions")}),
		"AccessList":       arr(ref("Access")),
		"Specifier":        obj(schema{"id": ref("ID"), "email": str(), "name": str(), "two_factor_authentication_enabled": boolean()}),
		"Permissions":      obj(schema{"can_read": boolean(), "can_update": boolean(), "can_destroy": boolean(), "can_leave": boolean()}),
		"IDObject":         obj(schema{"id": ref("ID")}),
		"Message":          obj(schema{"message": str()}),
		"BulkPermissions":  input(schema{"permissions": arr(input(schema{"resource_id": idIn, "resource_type": str(), "access_level": levelIn, "_destroy": boolean()}, "resource_id", "resource_type"))}, "permissions"),
		"Node":             obj(schema{"id": ref("ID"), "name": str(), "type": str(), "access_level": level, "resources": arr(ref("Node"))}),
		"NodeList":         arr(ref("Node")),
		"Token":            token,
		"TokenList":        arr(ref("Token")),
		"CreateToken":      input(schema{"name": str(), "resources": arr(ref("ResourceInput")), "expires_at": expires}, "name"),
		"ResetToken":       input(schema{"expires_at": expires}),
		"SubAccount":       obj(schema{"id": ref("ID"), "name": str()}),
		"SubAccountList":   arr(ref("SubAccount")),
		"CreateSubAccount": input(schema{"account": input(schema{"name": str()}, "name")}, "account"),
		"TeamInvite": input(schema{
			"email": str(), "role": schema{"enum": []string{"owner", "admin", "member", "viewer"}},
			"teams": arr(idIn), "projects": arr(idIn), "permissions": ref("FeaturePermissions"),
		}, "email"),
		"FeaturePermissions": schema{"type": "object", "propertyNames": schema{"enum": []string{"email_api", "sandbox", "marketing", "analytics", "settings"}},
			"additionalProperties": schema{"enum": []string{"full", "read", "none"}}},
		"Invitation": func() schema {
			s := obj(schema{"id": ref("ID"), "access_id": ref("ID"), "account_id": ref("ID"), "email": str(), "role": str(), "resources": arr(ref("Resource")), "teams": arr(ref("ID")), "created_at": dateTime(), "secret": str()})
			s["required"] = []string{"access_id", "account_id", "created_at", "email", "id", "resources", "teams"}
			return s
		}(),
		"UpdateUser":       input(schema{"role": schema{"enum": []string{"owner", "admin", "member", "viewer"}}, "permissions": ref("FeaturePermissions"), "projects": arr(idIn)}),
		"User":             obj(schema{"id": ref("ID"), "access_id": ref("ID"), "email": str(), "name": str(), "role": schema{"enum": []string{"owner", "admin", "member", "viewer"}}, "resources": arr(ref("Resource"))}),
		"RemoveUser":       input(schema{"transfer_ownership_to": idIn, "preserve_data": boolean()}),
		"Removed":          removed,
		"Invite":           input(schema{"email": str(), "resources": arr(ref("ResourceInput")), "team_ids": arr(idIn)}, "email"),
		"Accept":           input(schema{"secret": str()}, "secret"),
		"MyInvitation":     obj(schema{"id": ref("ID"), "account_id": ref("ID"), "email": str(), "created_at": dateTime()}),
		"MyInvitationPage": page(ref("MyInvitation")),
		"Transfer":         input(schema{"user_id": idIn}, "user_id"),
		"Seats":            obj(schema{"used": integer(), "limit": integer()}),
		"Event":            obj(schema{"seq": integer(), "time": dateTime(), "actor": str(), "action": str(), "target": str(), "before": str(), "after": str()}),
		"EventPage":        page(ref("Event")),
		"Team":             obj(schema{"id": ref("ID"), "access_id": ref("ID"), "name": str()}),
		"TeamPage":         page(ref("Team")),
		"Name":             input(schema{"name": str()}, "name"),
		"IDPage":           page(ref("IDObject")),
		"Profile":          profileOut,
		"UpdateProfile":    input(schema{"name": str(), "time_zone": str()}),
		"Email":            input(schema{"email": str()}, "email"),
		"OAuth":            obj(schema{"provider": str(), "subject": str()}),
		"DeleteProfile":    input(schema{"confirm": str()}, "confirm"),
	}
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI returns the OpenAPI 3.1 document of every route of Routes.
func OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range Routes() {
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, schema{"name": m[1], "in": "path", "required": true, "schema": str()})
		}
		for _, q := range rt.Query {
			params = append(params, schema{"name": q, "in": "query", "required": false, "schema": str()})
		}
		op := schema{
			"operationId": strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(rt.Path),
			"summary":     rt.Summary,
			"tags":        []string{rt.Tag},
			"responses": schema{
				strconv.Itoa(rt.Status): schema{"description": http.StatusText(rt.Status), "content": schema{"application/json": schema{"schema": ref(rt.Response)}}},
				"default":               schema{"$ref": "#/components/responses/Error"},
			},
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != "" {
			op["requestBody"] = schema{"required": !rt.BodyOpt, "content": schema{"application/json": schema{"schema": ref(rt.Body)}}}
		}
		switch rt.Auth {
		case AuthPublic:
			op["security"] = []any{}
		case AuthSession:
			op["security"] = []any{schema{"session": []string{}}}
		}
		if rt.Action != 0 {
			op["x-tenantry-authorize"] = rt.Action.String() + " on {" + rt.ScopeParam + "}"
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": schema{
			"title":   "Tenantry example service: the platform's account-access API and user management",
			"version": "1",
			"description": "Errors are {\"errors\": message or {field: [reasons]}}, with \"rule\" and \"reason\" on 403: " +
				"401 unauthenticated, 403 refused by the policy, 404 not found or not visible to the caller, 405, 409 conflict, " +
				"413 body too large, 422 invalid input, 429 rate limit (Retry-After). See POLICY.md for the rules cited.",
		},
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"security":          []any{schema{"bearer": []string{}}, schema{"apiToken": []string{}}, schema{"session": []string{}}},
		"paths":             paths,
		"components": schema{
			"schemas": schemas(),
			"responses": schema{"Error": schema{
				"description": "an error",
				"content":     schema{"application/json": schema{"schema": ref("Error")}},
			}},
			"securitySchemes": schema{
				"bearer":   schema{"type": "http", "scheme": "bearer", "description": "an API token's secret"},
				"apiToken": schema{"type": "apiKey", "in": "header", "name": "Api-Token"},
				"session":  schema{"type": "apiKey", "in": "cookie", "name": "session"},
			},
		},
	}
}

// openAPI serves GET /openapi.json.
func (h *handler) openAPI(w http.ResponseWriter, r *http.Request) error {
	return web.WriteJSON(w, http.StatusOK, OpenAPI())
}
