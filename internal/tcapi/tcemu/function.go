package tcemu

import (
	"slices"
)

// Function is a deployed function's configuration, as SCF GetFunction
// describes it (tencentcloud-sdk-go scf/v20180416 models.go
// GetFunctionResponseParams: Runtime, Handler, MemorySize, Timeout, Role,
// Environment.Variables[]{Key,Value}, ClsLogsetId, ClsTopicId, Status).
type Function struct {
	Region, Namespace, Name string
	Runtime, Handler, Role  string
	MemorySize, Timeout     int64
	Env                     map[string]string
	ClsLogsetID, ClsTopicID string
}

func init() {
	actions["scf"]["GetFunction"] = (*Server).getFunction
}

// DeployFunction makes f exist, as a deploy would (and declares it to
// Invoke and ListTriggers, AddFunction).
func (s *Server) DeployFunction(f Function) {
	if f.Namespace == "" {
		f.Namespace = "default"
	}
	s.AddFunction(f.Region, f.Namespace, f.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.products.functions[f.Region+"/"+f.Namespace+"/"+f.Name] = &f
}

// getFunction: models.go GetFunctionRequestParams (FunctionName, Qualifier,
// Namespace, ShowCode); ResourceNotFound.Function when it does not exist.
func (s *Server) getFunction(r request) (answer, *apiError) {
	var p struct{ FunctionName, Qualifier, Namespace, ShowCode string }
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	if p.FunctionName == "" {
		return answer{}, errf("MissingParameter", "FunctionName is required")
	}
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	f := s.products.functions[r.region+"/"+p.Namespace+"/"+p.FunctionName]
	if f == nil {
		return answer{}, errf("ResourceNotFound.Function", "function %s does not exist in %s/%s", p.FunctionName, r.region, p.Namespace)
	}
	keys := make([]string, 0, len(f.Env))
	for k := range f.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vars := []map[string]string{}
	for _, k := range keys {
		vars = append(vars, map[string]string{"Key": k, "Value": f.Env[k]})
	}
	res := map[string]any{"FunctionName": f.Name, "Namespace": f.Namespace, "Runtime": f.Runtime, "Handler": f.Handler,
		"Role": f.Role, "MemorySize": f.MemorySize, "Timeout": f.Timeout, "Environment": map[string]any{"Variables": vars},
		"ClsLogsetId": f.ClsLogsetID, "ClsTopicId": f.ClsTopicID, "Status": "Active", "Qualifier": "$LATEST"}
	return answer{result: res}, nil
}
