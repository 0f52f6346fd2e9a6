package config

// Kerberos configures rt.auth: kerberos (SPNEGO through a web server in front
// of RT). Exactly one credential source is used: keytab_file, then
// password_file, then the credential cache (ccache, else $KRB5CCNAME).
type Kerberos struct {
	Krb5Conf     string `yaml:"krb5_conf"`     // default $KRB5_CONFIG, then /etc/krb5.conf
	Principal    string `yaml:"principal"`     // user or user@REALM; "username" is accepted too
	Username     string `yaml:"username"`      // alias of principal
	Realm        string `yaml:"realm"`         // default: the principal's, else default_realm
	KeytabFile   string `yaml:"keytab_file"`   // service account (recommended for the daemon)
	PasswordFile string `yaml:"password_file"` // the password, read like every *_file secret
	Password     Secret `yaml:"-"`             // read from PasswordFile (again on every load)
	CCache       string `yaml:"ccache"`        // an existing credential cache kept fresh by k5start/kinit
	SPN          string `yaml:"spn"`           // default HTTP/<host of rt.url>
	// DisablePAFXFAST is needed against Active Directory KDCs.
	DisablePAFXFAST bool `yaml:"disable_pa_fx_fast"`
}

// PrincipalName returns principal, or username when principal is empty.
func (k *Kerberos) PrincipalName() string {
	if k.Principal != "" {
		return k.Principal
	}
	return k.Username
}
