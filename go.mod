module github.com/picbucket/picbucket

go 1.23.0

require (
	github.com/rs/zerolog v1.35.1
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common v1.3.211
	github.com/tencentyun/cos-go-sdk-v5 v0.7.75
	github.com/tencentyun/scf-go-lib v0.0.0-20230904103145-13c9a7eeca80
	golang.org/x/time v0.11.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/clbanning/mxj v1.8.4 // indirect
	github.com/google/go-querystring v1.0.0 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/mitchellh/mapstructure v1.4.3 // indirect
	github.com/mozillazg/go-httpheader v0.2.1 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
