package tcemu

import (
	"encoding/json"
	"maps"
	"slices"
)

// A topic's index (cls 2020-10-16 CreateIndex, DescribeIndex, ModifyIndex;
// tencentcloud-sdk-go cls/v20201016 models.go: CreateIndexRequestParams
// {TopicId, Rule RuleInfo, Status, IncludeInternalFields, MetadataFlag},
// RuleInfo {FullText, KeyValue RuleKeyValueInfo, Tag, DynamicIndex},
// RuleKeyValueInfo {CaseSensitive, KeyValues []KeyValueInfo{Key, Value
// ValueInfo{Type long|text|double, Tokenizer, SqlFlag, ContainZH}}}).

// Index is a topic's index: its key-value fields, and the rule and
// settings as the last CreateIndex or ModifyIndex sent them (DescribeIndex
// answers them back: FullText, Tag, DynamicIndex, each field's Tokenizer,
// IncludeInternalFields, MetadataFlag, CoverageField).
type Index struct {
	TopicID string
	Status  bool
	Fields  []IndexField
	Rule    map[string]any
	Extra   map[string]any
}

// IndexField is one key-value index field.
type IndexField struct {
	Key, Type string
	SqlFlag   bool
}

type indexParams struct {
	TopicId               string
	Status                *bool
	IncludeInternalFields *bool
	MetadataFlag          *uint64
	Rule                  *struct {
		FullText, Tag, DynamicIndex any
		KeyValue                    *struct {
			CaseSensitive bool
			TemplateType  string
			KeyValues     []struct {
				Key   string
				Value struct {
					Type, Tokenizer    string
					SqlFlag, ContainZH bool
					Alias              string
				}
			}
		}
	}
}

func init() {
	actions["cls"]["CreateIndex"] = (*Server).createIndex
	actions["cls"]["ModifyIndex"] = (*Server).modifyIndex
	actions["cls"]["DescribeIndex"] = (*Server).describeIndex
}

// Index returns a topic's index, or nil.
func (s *Server) Index(topicID string) *Index {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix := s.products.indexes[topicID]; ix != nil {
		c := *ix
		c.Fields = slices.Clone(ix.Fields)
		c.Rule, c.Extra = maps.Clone(ix.Rule), maps.Clone(ix.Extra)
		return &c
	}
	return nil
}

func (s *Server) indexFrom(r request) (*Index, *apiError) {
	var p indexParams
	if aerr := decode(r.body, &p); aerr != nil {
		return nil, aerr
	}
	if p.TopicId == "" {
		return nil, errf("MissingParameter", "TopicId is required")
	}
	if s.topic(r.caller.Uin, r.region, p.TopicId) == nil {
		return nil, errf("ResourceNotFound.TopicNotExist", "topic %s does not exist in %s", p.TopicId, r.region)
	}
	ix := &Index{TopicID: p.TopicId, Status: p.Status == nil || *p.Status, Extra: map[string]any{}}
	var raw map[string]any
	json.Unmarshal(r.body, &raw)
	ix.Rule, _ = raw["Rule"].(map[string]any)
	for _, k := range []string{"IncludeInternalFields", "MetadataFlag", "CoverageField"} {
		if v, ok := raw[k]; ok {
			ix.Extra[k] = v
		}
	}
	if p.Rule != nil && p.Rule.KeyValue != nil {
		// "键值索引（KeyValue）及元字段索引（Tag）中的Key总数不能超过300"
		// (models.go KeyValueInfo).
		if len(p.Rule.KeyValue.KeyValues) > 300 {
			return nil, errf("LimitExceeded.IndexKeyOverLimit", "at most 300 index keys")
		}
		for _, kv := range p.Rule.KeyValue.KeyValues {
			switch kv.Value.Type {
			case "text", "long", "double":
			default:
				return nil, errf("InvalidParameter", "field %s: Type %q: long, text or double", kv.Key, kv.Value.Type)
			}
			if kv.Value.Type != "text" && kv.Value.Tokenizer != "" {
				return nil, errf("InvalidParameter", "field %s: a %s field takes no Tokenizer", kv.Key, kv.Value.Type)
			}
			ix.Fields = append(ix.Fields, IndexField{Key: kv.Key, Type: kv.Value.Type, SqlFlag: kv.Value.SqlFlag})
		}
	}
	return ix, nil
}

func (s *Server) createIndex(r request) (answer, *apiError) {
	ix, aerr := s.indexFrom(r)
	if aerr != nil {
		return answer{}, aerr
	}
	if s.products.indexes[ix.TopicID] != nil {
		return answer{}, errf("InvalidParameter.IndexConflict", "topic %s already has an index", ix.TopicID)
	}
	s.products.indexes[ix.TopicID] = ix
	return answer{result: map[string]any{}}, nil
}

func (s *Server) modifyIndex(r request) (answer, *apiError) {
	ix, aerr := s.indexFrom(r)
	if aerr != nil {
		return answer{}, aerr
	}
	if s.products.indexes[ix.TopicID] == nil {
		return answer{}, errf("ResourceNotFound.IndexNotExist", "topic %s has no index", ix.TopicID)
	}
	s.products.indexes[ix.TopicID] = ix
	return answer{result: map[string]any{}}, nil
}

// describeIndex: a topic without an index answers ResourceNotFound.IndexNotExist
// here; the real API's answer for that case is not documented (the client
// also takes an answer without Rule as no index).
func (s *Server) describeIndex(r request) (answer, *apiError) {
	var p struct{ TopicId string }
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	if s.topic(r.caller.Uin, r.region, p.TopicId) == nil {
		return answer{}, errf("ResourceNotFound.TopicNotExist", "topic %s does not exist in %s", p.TopicId, r.region)
	}
	ix := s.products.indexes[p.TopicId]
	if ix == nil {
		return answer{}, errf("ResourceNotFound.IndexNotExist", "topic %s has no index", p.TopicId)
	}
	res := map[string]any{"TopicId": ix.TopicID, "Status": ix.Status, "Rule": ix.Rule}
	maps.Copy(res, ix.Extra)
	return answer{result: res}, nil
}
