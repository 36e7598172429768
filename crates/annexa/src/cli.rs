//! The command-line interface definition (clap derive). Help texts carry examples.

use crate::output::Format;
use annexa_core::finding::{ActionStatus, FindingState, NcStatus, Severity};
use annexa_core::model::{JmlKind, Role, TokenScope, Vocabulary};
use annexa_core::risk::{LossShape, Treatment};
use annexa_core::soa::{Implementation, InclusionReason};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "annexa",
    version,
    about = "Identity governance and ISO/IEC 27001:2022 compliance engine",
    long_about = "Annexa imports people (HR), accounts and entitlements (directories, cloud, apps, \
badge systems), runs automated control checks mapped to ISO/IEC 27001:2022 Annex A, and keeps \
evidence-backed findings an auditor accepts.",
    after_help = "Examples:
  annexa demo                              # synthetic organisation, imported and audited
  annexa import hr people.csv
  annexa import accounts apps.csv
  annexa import ldif corp.ldif --system corp-ad
  annexa audit --fail-on high              # exit 1 when a high or critical finding is open
  annexa controls show A.9.2.6             # 2013 id -> A.5.18

Exit codes: 0 success, 1 findings at or above --fail-on, 2 usage or input error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Database URL: sqlite://PATH (embedded, the default) or postgres://USER@HOST:PORT/DB.
    #[arg(long, global = true, env = "ANNEXA_DB", default_value = "sqlite://annexa.db")]
    pub db: String,
    /// Configuration file (check parameters, SoD rules, roles). Defaults to ./annexa.toml
    /// when it exists, else built-in defaults.
    #[arg(long, global = true, env = "ANNEXA_CONFIG")]
    pub config: Option<PathBuf>,
    /// The ledger's signing key (created on first use, mode 0600). Defaults to the SQLite
    /// database's path plus `.ledger-key`, or `./annexa-ledger.key` for PostgreSQL.
    #[arg(long, global = true, env = "ANNEXA_LEDGER_KEY")]
    pub ledger_key: Option<PathBuf>,
    /// Output format of lists; `junit` (JUnit XML, one test case per check) is for `audit`.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a source file, replacing that source's previous snapshot.
    #[command(after_help = "Kinds and their formats:
  hr                     HR feed CSV: employee_id,email,given_name,family_name,department,title,
                         manager_id,location,worker_type,status,start_date,end_date[,screening_date]
  accounts               system,account_id,username,email,employee_id,display_name,status,type,
                         created_at,last_login_at,mfa,password_last_set_at,owner
  assignments            system,account_id,entitlement,privileged,granted_at,granted_by,source
                         [,last_certified_at,last_certified_by]
  ldif                   RFC 2849 LDIF of an OpenLDAP or Active Directory tree (--system names it)
  aws-credential-report  the AWS IAM credential report CSV, as AWS writes it
  badges                 badge_id,employee_id,status,last_used_at,zones
  ldap                   a live directory, read over LDAP (paged search) and saved as LDIF to FILE,
                         then imported as ldif: --url, --base, [--filter], [--bind-dn, --password-env]
  scim                   a SCIM snapshot: JSON Lines, one SCIM User or Group per line; with --url and
                         --token-env the application is read over SCIM 2.0 and saved to FILE first;
                         with --pushed, what an identity provider pushed to `annexa serve` for --system
  okta                   Okta API JSON: users, groups, groups/{id}/users, users/{id}/factors,
                         users/{id}/roles ... as several files or a directory (FILE MORE...)
  entra                  Microsoft Graph JSON: users (with signInActivity), groups, directory roles,
                         role assignments, userRegistrationDetails; several files or a directory
  google-workspace       Google Workspace: Directory API JSON (users, groups, groups/{id}/members;
                         several files or a directory) or the admin console's users CSV
  github                 GitHub organisation REST JSON: members, outside_collaborators, memberships,
                         teams and their members, 2fa_disabled lists; several files or a directory

Examples:
  annexa import hr workday.csv --mapping workday-columns.toml
  annexa import accounts salesforce.csv --system salesforce
  annexa import aws-credential-report report.csv --system aws-prod
  LDAP_PASSWORD=… annexa import ldap corp-2026-11-30.ldif --system corp --url ldap://dc1:389 \\
      --base dc=corp,dc=example --bind-dn cn=reader,dc=corp,dc=example --password-env LDAP_PASSWORD
  SCIM_TOKEN=… annexa import scim slack.jsonl --system slack --url https://api.slack.com/scim/v2 \\
      --token-env SCIM_TOKEN
  annexa import scim okta-pushed.jsonl --system okta --pushed")]
    Import(ImportArgs),
    /// Run the control checks, store the run and its findings, compare with the last run.
    #[command(after_help = "Examples:
  annexa audit
  annexa audit --as-of 2026-01-31T00:00:00Z --format json
  annexa audit --check leaver-access --check mfa-missing --fail-on high
  annexa audit --format junit > annexa-junit.xml")]
    Audit(AuditArgs),
    /// Read stored findings, and decide about them: assign, accept, dismiss, reopen, comment.
    #[command(subcommand)]
    Findings(FindingsCommand),
    /// Access certification campaigns: launch, review, decide, close.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Nonconformities and corrective actions (clause 10.2): open, act, verify, close.
    #[command(subcommand)]
    Nc(NcCommand),
    /// The risk register (clause 6.1): risks, treatment, suggestions from the evidence, simulation.
    #[command(subcommand)]
    Risk(RiskCommand),
    /// The Statement of Applicability: all 93 Annex A controls, set, drafted, approved, compared, exported.
    #[command(subcommand)]
    Soa(SoaCommand),
    /// Checks written in Rego: test them, query them, compare the built-in checks with their
    /// reference policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Reports for the auditor: one self-contained HTML page, the same as PDF, and OSCAL.
    #[command(subcommand)]
    Report(ReportCommand),
    /// The ISO/IEC 27001:2022 Annex A control catalog.
    #[command(subcommand)]
    Controls(ControlsCommand),
    /// The effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// List the imports on record: source, file, SHA-256, rows, time.
    #[command(after_help = "Sources that failed their latest automatic import (what an identity provider pushed to
`annexa serve`) are named on stderr; --failed lists them with the error.

Examples:
  annexa imports
  annexa imports --failed --format json")]
    Imports {
        /// List the sources whose latest automatic import failed, with why, instead.
        #[arg(long)]
        failed: bool,
    },
    /// Business roles and birthright rules (from annexa.toml), and what explains a person's access.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// Joiner, mover and leaver events detected from HR snapshots.
    #[command(subcommand)]
    Jml(JmlCommand),
    /// The durable provisioning queue: plan, run, list, retry.
    #[command(subcommand)]
    Provision(ProvisionCommand),
    /// Serve the SCIM 2.0 endpoint (/scim/v2) and run the scheduler.
    #[command(after_help = "An identity provider pushes Users and Groups with a token of its system:
  annexa token create okta-push --scope scim --system okta
  annexa serve --listen 0.0.0.0:8080 --public-url https://annexa.example.com
  # in Okta: SCIM connector base URL https://annexa.example.com/scim/v2, HTTP header auth

Every --jobs-every seconds (default 300) the scheduler imports what was pushed (as kind scim),
plans due joiner/mover/leaver events, runs the provisioning queue and signs a ledger checkpoint.")]
    Serve(ServeArgs),
    /// API tokens for machine clients: scripts calling the REST API with a role, an
    /// identity provider pushing over SCIM.
    #[command(subcommand)]
    Token(TokenCommand),
    /// People who sign in to the server with a password.
    #[command(subcommand)]
    User(UserCommand),
    /// Evidence packs for auditors: one archive, verifiable offline.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// The tamper-evident evidence ledger: verify it, prove entries, sign checkpoints.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Generate a realistic synthetic organisation, import it and audit it.
    #[command(after_help = "Examples:
  annexa demo
  annexa demo --people 100000 --seed 7 --out /tmp/org
  annexa demo --generate-only --directory-format csv --out /tmp/org
  annexa demo --first-audit --people 10000")]
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file is (or, for ldap, where to read it from first).
    #[arg(value_enum)]
    pub kind: ImportSource,
    /// The file to import (okta, entra, google-workspace, github: or a directory holding the
    /// export's files).
    pub file: PathBuf,
    /// okta, entra, google-workspace, github: more files of the same export (pages, per-group
    /// lists), imported with FILE as one import, in the order given.
    #[arg(value_name = "MORE")]
    pub more_files: Vec<PathBuf>,
    /// The system these records belong to (required for ldif and aws-credential-report
    /// unless the default name suits; fills an empty `system` column in CSVs).
    #[arg(long)]
    pub system: Option<String>,
    /// Mapping for HR exports in their own shape (TOML: `[columns] employee_id = "Employee
    /// Number"`, `[values.status] "Terminated" = "terminated"`, `date_format = "%m/%d/%Y"`,
    /// `optional = ["email"]`; see docs/formats/hr.md).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// ldap: the server, `ldap://host:port`.
    #[arg(long)]
    pub url: Option<String>,
    /// ldap: the base DN to search under.
    #[arg(long)]
    pub base: Option<String>,
    /// ldap: the search filter.
    #[arg(long, default_value = "(objectClass=*)")]
    pub filter: String,
    /// ldap: the DN to bind as (anonymous when absent).
    #[arg(long)]
    pub bind_dn: Option<String>,
    /// ldap: the environment variable that holds the bind password (never the password
    /// itself: command lines are visible to other users).
    #[arg(long)]
    pub password_env: Option<String>,
    /// ldap: entries per page.
    #[arg(long, default_value_t = 500)]
    pub page_size: i32,
    /// ldap: upgrade the ldap:// connection with StartTLS (an ldaps:// URL is TLS already).
    #[arg(long)]
    pub starttls: bool,
    /// ldap, scim: PEM file of the CA certificates that sign the server's certificate
    /// (default: the system's trusted roots; for scim the webpki roots). The certificate is
    /// always verified.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// scim: the environment variable holding the bearer token of the --url application.
    #[arg(long)]
    pub token_env: Option<String>,
    /// scim: take what identity providers pushed to this Annexa's SCIM endpoint for
    /// --system, instead of reading an application at --url.
    #[arg(long)]
    pub pushed: bool,
    /// Accept a file with no data rows, which removes every record of its source. Without
    /// it such a file is refused: a truncated export must not wipe an inventory.
    #[arg(long)]
    pub allow_empty: bool,
    /// Import the good rows and set every refused row (a bad date, an unknown status, a
    /// duplicate key, …) aside in a quarantine report (CSV: file,line,column,value,reason)
    /// instead of refusing the whole file. A problem of the file itself (its encoding, its
    /// header, no data) still refuses it. Not for ldap or scim --url/--pushed.
    #[arg(long)]
    pub lenient: bool,
    /// With --lenient: where to write the quarantine report (default: beside the database,
    /// in `annexa.db.quarantine/`, named after the time and the kind).
    #[arg(long, requires = "lenient", value_name = "FILE")]
    pub quarantine: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Evaluate as of this instant (RFC 3339 or a date) instead of now: reproducible runs.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Exit 1 when an open finding has this severity or higher.
    #[arg(long, value_parser = vocab::<Severity>())]
    pub fail_on: Option<Severity>,
    /// Run only these checks (repeatable).
    #[arg(long = "check")]
    pub checks: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// List findings of the latest run (open by default).
    List {
        /// Which findings by status.
        #[arg(long, value_enum, default_value_t = StatusFilter::Open)]
        status: StatusFilter,
        /// Only this check.
        #[arg(long)]
        check: Option<String>,
        /// Only this severity or higher.
        #[arg(long, value_parser = vocab::<Severity>())]
        severity: Option<Severity>,
        /// Only findings that evidence this control (2022 or 2013 id).
        #[arg(long)]
        control: Option<String>,
        /// Only findings about subjects of this system.
        #[arg(long)]
        system: Option<String>,
        /// Only findings about this subject (its key, as `findings list` shows it), or
        /// about subjects under it: an account's key also finds its assignments.
        #[arg(long)]
        subject: Option<String>,
        /// The findings audit run N reported, as it reported them (`--status` does not
        /// apply: they were open then).
        #[arg(long, value_name = "N")]
        run: Option<i64>,
        /// At most N findings (a page); the total is said on stderr.
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        /// Skip the first M findings of the listing order (most severe first, then check,
        /// subject and id).
        #[arg(long, value_name = "M", default_value_t = 0)]
        offset: u64,
        /// Only findings in this lifecycle state (`--status` does not apply).
        #[arg(long, value_parser = vocab::<FindingState>())]
        state: Option<FindingState>,
        /// Only findings past their due date that someone still has to act on.
        #[arg(long)]
        overdue: bool,
    },
    /// Show one finding with its evidence, its handling and its comments.
    Show { id: String },
    /// Acknowledge findings: someone owns the fix, by a due date.
    #[command(after_help = "Without --due a finding keeps the due date its severity gives it ([findings.due_days]).

Examples:
  annexa findings assign F-3bde2bdc1962ed74 --owner E1042 --due 2027-01-15
  annexa findings assign --check leaver-access --owner iam-team")]
    Assign {
        #[command(flatten)]
        select: FindingSelect,
        /// Who fixes it (an employee id, a team).
        #[arg(long)]
        owner: String,
        /// When it is due (a date).
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
    },
    /// Accept findings as risks: suppressed until the expiry, then reopened.
    #[command(after_help = "Examples:
  annexa findings accept F-3bde2bdc --approver E0007 --reason \"legacy ERP, replaced in Q2\" --expires 2027-06-30")]
    Accept {
        #[command(flatten)]
        select: FindingSelect,
        /// Who accepted the risk.
        #[arg(long)]
        approver: String,
        #[arg(long)]
        reason: String,
        /// When the acceptance ends and the findings reopen (a date).
        #[arg(long, value_name = "DATE")]
        expires: String,
    },
    /// Dismiss findings as false positives: suppressed while they rest on the same records.
    #[command(after_help = "Examples:
  annexa findings dismiss F-90b54cb0 --reason \"break-glass account, sealed in the safe\"")]
    Dismiss {
        #[command(flatten)]
        select: FindingSelect,
        #[arg(long)]
        reason: String,
    },
    /// Reopen findings: withdraw an acknowledgement, acceptance or dismissal.
    Reopen {
        #[command(flatten)]
        select: FindingSelect,
        #[arg(long)]
        reason: String,
    },
    /// Comment on findings.
    #[command(after_help = "Examples:
  annexa findings comment F-90b54cb0 --text \"ticket IAM-1234 opened\"")]
    Comment {
        #[command(flatten)]
        select: FindingSelect,
        #[arg(long)]
        text: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Launch a campaign: its population is drawn now and does not change afterwards.
    #[command(after_help = "Scopes (combine with commas or repeat --scope; an item meets them all):
  all, privileged, system:NAME, department:NAME, entitlement:PATTERN (system:name, * wildcards),
  uncertified:DAYS, check:CHECK_ID (the access behind a check's open findings)
Reviewers: manager, entitlement-owner, system-owner, named:EMPLOYEE_ID. Nobody reviews their
own access (it goes to their manager); --fallback takes items whose reviewer is missing or a leaver.

Examples:
  annexa campaign create --name \"Q1 privileged\" --scope privileged --reviewer manager --due 2027-03-31 --fallback E0007
  annexa campaign create --name \"First review\" --scope check:certification-overdue --reviewer system-owner --due 2027-02-28
  annexa campaign create --name \"HQ doors\" --scope system:hq-badges --reviewer manager --due 2027-01-31")]
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, required = true)]
        scope: Vec<String>,
        #[arg(long)]
        reviewer: String,
        /// When reviews are due (a date).
        #[arg(long, value_name = "DATE")]
        due: String,
        #[arg(long, value_name = "EMPLOYEE_ID")]
        fallback: Option<String>,
    },
    /// List campaigns, newest first, with their progress.
    List,
    /// Show a campaign: scope, population proof, progress.
    Show { id: i64 },
    /// A campaign's review items, with the context and recommendation each shows.
    Items {
        id: i64,
        /// Only this reviewer's items.
        #[arg(long, value_name = "EMPLOYEE_ID")]
        reviewer: Option<String>,
        /// Only items not decided yet.
        #[arg(long)]
        undecided: bool,
        #[arg(long)]
        system: Option<String>,
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        #[arg(long, value_name = "M", default_value_t = 0)]
        offset: u64,
    },
    /// Certify or revoke items, as their reviewer.
    #[command(after_help = "A comment is required to revoke privileged access and to certify an item with open findings.

Examples:
  annexa campaign decide 17 18 --as E1001 --decision certify
  annexa campaign decide 19 --as E1001 --decision revoke --comment \"left the project\"
  annexa campaign decide --campaign 3 --all-of-reviewer --system jira --as E1001 --decision certify --comment \"team list checked\"")]
    Decide {
        /// Item ids.
        items: Vec<i64>,
        /// The reviewer deciding (employee id).
        #[arg(long = "as", value_name = "EMPLOYEE_ID")]
        reviewer: String,
        #[arg(long, value_parser = ["certify", "revoke"])]
        decision: String,
        #[arg(long)]
        comment: Option<String>,
        /// Every undecided item of this reviewer in --campaign (narrowed by --system),
        /// with one comment.
        #[arg(long, requires_all = ["campaign", "comment"])]
        all_of_reviewer: bool,
        #[arg(long, value_name = "ID")]
        campaign: Option<i64>,
        #[arg(long)]
        system: Option<String>,
    },
    /// Hand undecided items to another reviewer.
    Delegate {
        items: Vec<i64>,
        /// Their current reviewer.
        #[arg(long = "as", value_name = "EMPLOYEE_ID")]
        reviewer: String,
        #[arg(long, value_name = "EMPLOYEE_ID")]
        to: String,
    },
    /// Write a reviewer's undecided items to a worksheet for offline review: XLSX (every
    /// cell locked but decision and comment, a drop-down for the decision) or CSV; each row
    /// carries an integrity code.
    #[command(after_help = "Examples:
  annexa campaign export 1 --reviewer E1001 --out review-E1001.xlsx
  annexa campaign import-decisions 1 review-E1001.xlsx")]
    Export {
        id: i64,
        #[arg(long, value_name = "EMPLOYEE_ID")]
        reviewer: String,
        /// FILE.xlsx or FILE.csv
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Apply the decisions of a returned worksheet: every row is checked, and a file with
    /// any bad row (an unknown item, a cell changed outside decision and comment, a row
    /// whose reviewer no longer reviews the item, an item already decided) applies nothing.
    ImportDecisions { id: i64, file: PathBuf },
    /// Open what is due: recurring campaigns of `[[campaigns.recurring]]` whose interval has
    /// passed, and a review of each mover's access requested before the move (the open
    /// `mover-access-review` findings). The server's scheduler runs it too.
    #[command(after_help = "Configuration:
  [[campaigns.recurring]]
  name = \"Privileged access\"
  scope = [\"privileged\"]
  reviewer = \"manager\"
  fallback = \"E0007\"
  every_days = 91

Example:
  annexa audit && annexa campaign run-due")]
    RunDue,
    /// Benchmark: decide N of a reviewer's items one at a time and print the latencies.
    #[command(hide = true)]
    BenchDecide {
        id: i64,
        #[arg(long, value_name = "EMPLOYEE_ID")]
        reviewer: String,
        #[arg(long, default_value_t = 200)]
        count: usize,
    },
    /// The campaign's evidence: population proof, decisions, and each reviewer's diligence
    /// (time to decide, share certified, fast runs, certifications against findings).
    #[command(after_help = "--format json writes the campaign, the diligence and every item with its decision,
comment and the recommendation shown: the evidence an auditor samples.

Examples:
  annexa campaign report 1
  annexa --format json campaign report 1 > campaign-1.json
  annexa campaign report 1 --out campaign-1.xlsx")]
    Report {
        id: i64,
        /// Write the evidence as an XLSX workbook (summary, population, diligence, items).
        #[arg(long, value_name = "FILE.xlsx")]
        out: Option<PathBuf>,
    },
    /// Close: certified access is recorded as certified; undecided items are kept or revoked.
    Close {
        id: i64,
        #[arg(long, value_parser = ["keep", "revoke"], default_value = "keep")]
        undecided: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum NcCommand {
    /// Open a nonconformity: findings of one control, or a manual audit observation.
    #[command(after_help = "Examples:
  annexa nc open --title \"Leavers keep access\" --control A.5.18 --check leaver-access \\
      --root-cause \"HR terminations reach IT by e-mail\"
  annexa nc open --title \"Visitor log not reviewed\" --control A.7.2 \\
      --description \"Internal audit 2026-11: no review of the visitor log since June\"")]
    Open {
        #[arg(long)]
        title: String,
        /// The Annex A control (2022 id, or a 2013 id that maps to one).
        #[arg(long)]
        control: Option<String>,
        /// A finding it groups (repeatable; ids or unique prefixes).
        #[arg(long = "finding", value_name = "ID")]
        findings: Vec<String>,
        /// Group every open finding of this check (repeatable).
        #[arg(long = "check", value_name = "CHECK")]
        checks: Vec<String>,
        /// What was observed (required for an observation without findings).
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        root_cause: Option<String>,
    },
    /// List nonconformities, newest first.
    List {
        #[arg(long, value_parser = vocab::<NcStatus>())]
        status: Option<NcStatus>,
    },
    /// Show a nonconformity: findings and their state, actions, and what keeps it open.
    Show { nc: String },
    /// Add a corrective action, set an action's status, or record the root cause.
    #[command(after_help = "Examples:
  annexa nc action NC-1 --add \"Terminations trigger the leaver workflow\" --owner E0042 --due 2027-01-31
  annexa nc action NC-1 --set 1 --status done
  annexa nc action NC-1 --root-cause \"No feed from HR to IT\"")]
    Action {
        nc: String,
        /// A new action's description (with --owner and --due).
        #[arg(long, value_name = "TEXT", conflicts_with_all = ["set", "root_cause"], requires_all = ["owner", "due"])]
        add: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
        /// The number of the action whose status --status sets.
        #[arg(long, value_name = "N", requires = "status", conflicts_with = "root_cause")]
        set: Option<i64>,
        #[arg(long, value_parser = vocab::<ActionStatus>())]
        status: Option<ActionStatus>,
        #[arg(long, value_name = "TEXT")]
        root_cause: Option<String>,
    },
    /// Close after the effectiveness check: actions done, findings remediated and
    /// confirmed by a later audit.
    Close {
        nc: String,
        /// What shows the correction worked.
        #[arg(long, value_name = "TEXT")]
        effectiveness: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Add a risk, or risks of the built-in library (--library).
    #[command(after_help = "Likelihood and impact are 1 to 5 on the matrix of [risk] in annexa.toml, where each level is
also a band of events a year and of loss per event. A risk quantified with --frequency and --loss
gets its residual rating from the ranges; a rating given that falls in another band is refused.

Examples:
  annexa risk add --library all --owner E0007
  annexa risk add --title \"Payroll data leaked by a vendor\" --asset \"Payroll data\" \\
      --threat \"A vendor's account is misused\" --vulnerability \"Vendor accounts never expire\" \\
      --owner E0007 --likelihood 3 --impact 4 --control A.5.19 --frequency 0.1-0.4 --loss 20000-400000")]
    Add {
        /// Library risks to add (repeatable), or `all` for every one not yet in the register.
        #[arg(long = "library", value_name = "KEY")]
        library: Vec<String>,
        #[command(flatten)]
        fields: RiskFields,
    },
    /// List the register: ratings, levels, treatment, review date, the latest simulation's ALE.
    List,
    /// Show a risk whole.
    Show { risk: String },
    /// Change a risk (only what is given changes).
    #[command(after_help = "Examples:
  annexa risk edit R-3 --owner E0042 --review 2027-06-30
  annexa risk edit R-1 --frequency 0.05-0.2 --driver open-findings:leaver-access
  annexa risk edit R-2 --unquantify")]
    Edit {
        risk: String,
        /// Refuse the edit unless the risk is still at this version.
        #[arg(long)]
        version: Option<i64>,
        #[command(flatten)]
        fields: RiskFields,
        /// Remove the quantification.
        #[arg(long)]
        unquantify: bool,
    },
    /// Record a risk's treatment: how, the plan, the controls, the residual rating.
    #[command(after_help = "Examples:
  annexa risk treat R-2 --treatment modify --control A.8.5 --plan \"FIDO2 keys for every admin by Q2\"
  annexa risk treat R-6 --treatment retain --plan \"Within appetite: the ledger is verified daily\"")]
    Treat {
        risk: String,
        #[arg(long)]
        version: Option<i64>,
        #[command(flatten)]
        fields: RiskFields,
    },
    /// What the latest findings and campaigns suggest changing, with the reasoning; --apply applies.
    #[command(after_help = "Examples:
  annexa risk suggest
  annexa risk suggest --apply R-1 --apply R-2
  annexa risk suggest --apply all")]
    Suggest {
        /// Apply the suggestion for this risk (repeatable), or `all`.
        #[arg(long, value_name = "RISK")]
        apply: Vec<String>,
    },
    /// Quantify the register by Monte Carlo: ALE, percentiles, loss-exceedance curves.
    #[command(after_help = "The seed, iteration count, generator and a hash of every input are recorded in the ledger with
the result: the same command on the same register reproduces it bit for bit.

Examples:
  annexa risk simulate --seed 7
  annexa risk simulate --seed 7 --iterations 1000000 --format json")]
    Simulate {
        /// The generator's seed (by default one is drawn and printed).
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long, default_value_t = 100_000)]
        iterations: u32,
    },
    /// The built-in library of identity risks.
    Library,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run the `test_` rules of the policies, as `opa test` does: exit 1 if one fails.
    #[command(after_help = "Examples:
  annexa policy test policies/
  annexa policy test --format json")]
    Test {
        /// The policy directory (default: [policy] dir of annexa.toml).
        dir: Option<PathBuf>,
    },
    /// Answer one ad-hoc query against the policies, with an input document.
    #[command(after_help = "Examples:
  annexa policy eval 'data.annexa.custom.badges.findings' --input batch.json --dir policies/
  annexa policy eval '1 + 1'")]
    Eval {
        query: String,
        /// A JSON input document (the shape docs/rego-input.schema.json documents).
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Run built-in checks natively and through their reference Rego policies over the
    /// stored organisation, side by side: findings that differ, and the time each took.
    #[command(after_help = "Examples:
  annexa policy compare
  annexa policy compare --check dormant-account --as-of 2026-10-01T00:00:00Z --format json")]
    Compare {
        #[arg(long = "check", value_name = "CHECK")]
        checks: Vec<String>,
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Write the reference policies of the built-in checks into DIR, to start a check from.
    Reference {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Write the auditor's report as one HTML file that makes no request: summary, posture
    /// per theme, authentication strength, findings by control with evidence, trend, SoA,
    /// risk heat map and loss exceedance, campaigns and reviewer diligence, JML, the ledger
    /// checkpoint that covers it.
    #[command(after_help = "Examples:
  annexa report html --out report.html")]
    Html {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write the same report as PDF, printed by headless Chromium (Debian `chromium`, or
    /// ANNEXA_CHROMIUM).
    #[command(after_help = "Examples:
  annexa report pdf --out report.pdf")]
    Pdf {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write the latest audit as NIST OSCAL 1.1: assessment results to FILE, and beside it
    /// the assessment plan (NAME.assessment-plan.json) and a component definition of the
    /// checks (NAME.component-definition.json).
    #[command(after_help = "The results hold an observation per check and per open finding (the 1,000 most severe), a
finding per Annex A control, the risk register, and the ledger entries that record them with
their inclusion proofs (back-matter, base64), against a checkpoint signed for the export.

Examples:
  annexa report oscal --out assessment-results.json")]
    Oscal {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SoaCommand {
    /// Show the SoA: one row per control (or only those named), with risks, checks and their
    /// latest results, and what changed since the latest approval.
    #[command(after_help = "Examples:
  annexa soa show
  annexa soa show --control A.5.15 --control A.8.5
  annexa soa show --theme Technological --format json")]
    Show {
        /// Only this control (repeatable).
        #[arg(long = "control", value_name = "CONTROL")]
        controls: Vec<String>,
        /// Only this theme: Organizational, People, Physical, Technological, or Clause.
        #[arg(long)]
        theme: Option<String>,
    },
    /// Record applicability, reasons, justification, status, implementation, owner or documents.
    #[command(after_help = "Every change is a ledger entry; a change that is not valid for every control named is refused
whole. Excluding a control needs a specific justification; including one needs a reason. The status
of a control that built-in checks test follows the latest audit; a status set here stands for the
others (and for the clauses 4.1 to 10.2, which are mandatory).

Examples:
  annexa soa set A.5.15 A.5.18 --applicable yes --reason regulatory --reason risk-assessment --owner E0007
  annexa soa set A.8.28 --applicable no --justification \"No software is developed in house; all applications are SaaS\"
  annexa soa set A.5.1 --status implemented --implementation \"Policy approved by the board\" --document \"ISMS-POL-001 v3\"
  annexa soa set 9.2 --status partial --owner E0003")]
    Set {
        /// Controls (2022 ids, or 2013 ids that map to one) or clauses.
        #[arg(required = true)]
        controls: Vec<String>,
        /// yes or no.
        #[arg(long, value_parser = clap::builder::BoolishValueParser::new())]
        applicable: Option<bool>,
        /// Why it is included (repeatable; replaces the reasons).
        #[arg(long = "reason", value_parser = vocab::<InclusionReason>())]
        reasons: Vec<InclusionReason>,
        /// Why an excluded control does not apply.
        #[arg(long)]
        justification: Option<String>,
        #[arg(long, value_parser = vocab::<Implementation>())]
        status: Option<Implementation>,
        /// How it is implemented.
        #[arg(long)]
        implementation: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        /// A document reference to add (repeatable): an id, a title and version, a URL.
        #[arg(long = "document", value_name = "REFERENCE")]
        documents: Vec<String>,
        /// Remove the document references first.
        #[arg(long)]
        clear_documents: bool,
    },
    /// Mark the undecided controls that the risk register or the audit shows matter as
    /// applicable by risk assessment.
    Draft,
    /// Approve the SoA as it stands: its next version (refused while a control is undecided).
    Approve {
        /// Who approves it.
        #[arg(long)]
        approver: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// The approved versions.
    Versions,
    /// What changed between two approved versions (by default: the latest approved one and
    /// the SoA as it stands).
    #[command(after_help = "Examples:
  annexa soa diff
  annexa soa diff --from 1 --to 2")]
    Diff {
        #[arg(long)]
        from: Option<i64>,
        #[arg(long)]
        to: Option<i64>,
    },
    /// Write the SoA as XLSX (what an auditor opens), CSV or HTML: `--format xlsx|csv|html`.
    #[command(after_help = "Examples:
  annexa soa export --format xlsx --out SoA.xlsx
  annexa soa export --format html --out soa.html")]
    Export {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// A risk's fields, for add, edit and treat.
#[derive(Debug, Clone, Args)]
pub struct RiskFields {
    #[arg(long)]
    pub title: Option<String>,
    /// What is at risk.
    #[arg(long)]
    pub asset: Option<String>,
    #[arg(long)]
    pub threat: Option<String>,
    #[arg(long)]
    pub vulnerability: Option<String>,
    /// Who owns the risk (an employee id or a name).
    #[arg(long)]
    pub owner: Option<String>,
    /// Inherent likelihood, 1 to 5.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub likelihood: Option<u8>,
    /// Inherent impact, 1 to 5.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub impact: Option<u8>,
    /// Residual likelihood, 1 to 5 (derived from --frequency when quantified).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub residual_likelihood: Option<u8>,
    /// Residual impact, 1 to 5 (derived from --loss when quantified).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub residual_impact: Option<u8>,
    #[arg(long, value_parser = vocab::<Treatment>())]
    pub treatment: Option<Treatment>,
    #[arg(long)]
    pub plan: Option<String>,
    /// An Annex A control that treats it (repeatable; replaces the list).
    #[arg(long = "control", value_name = "CONTROL")]
    pub controls: Vec<String>,
    /// A built-in check whose findings show it (repeatable; replaces the list).
    #[arg(long = "check", value_name = "CHECK")]
    pub checks: Vec<String>,
    /// The next review date.
    #[arg(long, value_name = "DATE")]
    pub review: Option<String>,
    /// Events a year, LOW-HIGH (e.g. 0.1-0.5); per unit of --driver when there is one.
    #[arg(long, value_name = "LOW-HIGH")]
    pub frequency: Option<String>,
    /// What scales the frequency: open-findings:CHECK, privileged-without-phishing-resistant-mfa,
    /// accounts-without-mfa, or none.
    #[arg(long)]
    pub driver: Option<String>,
    /// Loss per event, a 90 % range LOW-HIGH (e.g. 10000-250000).
    #[arg(long, value_name = "LOW-HIGH")]
    pub loss: Option<String>,
    /// The most likely loss of one event (PERT).
    #[arg(long)]
    pub loss_most_likely: Option<f64>,
    /// The loss distribution.
    #[arg(long, value_parser = vocab::<LossShape>())]
    pub shape: Option<LossShape>,
}

/// Which findings a decision applies to: ids, or a filter over the open findings.
#[derive(Debug, Clone, Args)]
pub struct FindingSelect {
    /// Finding ids (or unique prefixes of at least 6 characters).
    pub ids: Vec<String>,
    /// Every open finding of this check.
    #[arg(long)]
    pub check: Option<String>,
    /// Every open finding of this severity or higher.
    #[arg(long, value_parser = vocab::<Severity>())]
    pub severity: Option<Severity>,
    /// Every open finding that evidences this control (2022 or 2013 id).
    #[arg(long)]
    pub control: Option<String>,
    /// Every open finding about subjects of this system.
    #[arg(long)]
    pub system: Option<String>,
    /// Every open finding about this subject or subjects under it.
    #[arg(long)]
    pub subject: Option<String>,
    /// Every finding in this lifecycle state.
    #[arg(long, value_parser = vocab::<FindingState>())]
    pub state: Option<FindingState>,
}

#[derive(Debug, Subcommand)]
pub enum ControlsCommand {
    /// List the Annex A controls.
    List {
        /// Organizational, People, Physical or Technological.
        #[arg(long)]
        theme: Option<String>,
        /// Only the identity-relevant controls.
        #[arg(long)]
        identity: bool,
    },
    /// Show one control: title, theme, the checks that test it, the crosswalk.
    /// A 2013 id (A.9.2.6) answers with the 2022 control(s).
    Show { id: String },
    /// Each identity requirement of a framework with the evidence of the Annex A controls it
    /// maps to: their checks' latest results and their status in the SoA.
    #[command(after_help = "Examples:
  annexa controls status --framework soc2
  annexa controls status --framework nist-csf --format json
  annexa controls status --framework cis")]
    Status {
        /// soc2, nist-csf, cis, or iso27001 (the identity controls of Annex A themselves).
        #[arg(long, default_value = "iso27001")]
        framework: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute every entry, the Merkle tree and every signed checkpoint; exit 1 and name
    /// the first entry changed, removed, inserted or reordered if anything was.
    #[command(after_help = "Examples:
  annexa ledger verify
  annexa ledger verify --key annexa.vkey --checkpoint witnessed.note   # as an auditor")]
    Verify {
        /// The public key (vkey text or a file holding it); defaults to the ledger key's.
        #[arg(long)]
        key: Option<String>,
        /// A checkpoint kept elsewhere (exported, or from a witness) to hold the log to.
        #[arg(long = "checkpoint")]
        checkpoints: Vec<PathBuf>,
        /// Verify an exported ledger (a folder written by `ledger export`) instead of the
        /// database; needs --key.
        #[arg(long)]
        export: Option<PathBuf>,
    },
    /// Write the log, its checkpoints and the verifier key into DIR, for a third party.
    #[command(after_help = "The folder holds entries.jsonl (one canonical entry per line, in order),
checkpoints/<size>.note (signed checkpoints) and annexa.vkey. Anyone can check it:
  annexa ledger verify --export DIR --key DIR/annexa.vkey")]
    Export { dir: PathBuf },
    /// Sign a checkpoint of the ledger as it is now and print it.
    Checkpoint,
    /// Print one entry.
    Show { seq: u64 },
    /// An inclusion proof of entry SEQ (against the newest checkpoint), or with
    /// --consistency OLD NEW a consistency proof between two checkpoints, as a JSON bundle
    /// that `verify-proof` checks offline.
    Prove {
        seq: Option<u64>,
        #[arg(long, num_args = 2, value_names = ["OLD", "NEW"])]
        consistency: Option<Vec<u64>>,
    },
    /// Check a proof bundle offline: needs only the bundle and the public key.
    #[command(name = "verify-proof")]
    VerifyProof {
        file: PathBuf,
        /// The public key (vkey text or a file holding it).
        #[arg(long)]
        key: String,
    },
    /// The ledger's keys.
    #[command(subcommand)]
    Key(LedgerKeyCommand),
    /// Benchmark: append ENTRIES entries in transactions of BATCH (a checkpoint each), then
    /// verify the whole log and time inclusion proofs. Use a scratch --db.
    #[command(hide = true)]
    Bench {
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        #[arg(long, default_value_t = 10_000)]
        batch: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// Every role with its entitlements and the birthright rules that grant it.
    List,
    /// Which birthright rules apply to a person, what they give, and what explains each
    /// entitlement the person holds (a rule, an approved request, or nothing).
    #[command(after_help = "Example:
  annexa roles explain E000123")]
    Explain {
        /// The person's employee id.
        employee_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProvisionCommand {
    /// What the due joiner, mover and leaver events would change, system by system (dry run).
    Plan,
    /// Carry out due tasks on the target systems; failures retry with backoff.
    Run {
        /// At most this many tasks.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        /// Seconds a claimed task stays this worker's; a worker that dies releases its
        /// tasks when the lease runs out.
        #[arg(long, default_value_t = 300)]
        lease_secs: i64,
    },
    /// The tasks and where each stands.
    List {
        /// Only the tasks that failed for good.
        #[arg(long, conflicts_with = "manual")]
        failed: bool,
        /// Only the tasks waiting for a person (systems with a manual connector).
        #[arg(long)]
        manual: bool,
    },
    /// Put a failed task back in the queue.
    Retry { id: i64 },
    /// Confirm that a person carried out a manual task (a badge deactivated at the badge
    /// system, an account removed from a legacy application).
    #[command(after_help = "Example:
  annexa provision done 42 --note \"badge B1042 revoked in the badge system, ticket FAC-311\"")]
    Done {
        id: i64,
        /// What was done and where it is recorded (a ticket); kept in the ledger.
        #[arg(long)]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum JmlCommand {
    /// List the events, by effective time. Each HR import after the first compares the new
    /// snapshot with the previous one and records joiners, movers and leavers once.
    #[command(after_help = "Examples:
  annexa jml list
  annexa jml list --kind mover --format json")]
    List {
        /// Only events of this kind.
        #[arg(long, value_parser = vocab::<JmlKind>())]
        kind: Option<JmlKind>,
    },
    /// Plan the events whose date has come and queue their provisioning tasks
    /// (`annexa provision run` carries them out).
    RunDue,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Write the latest audit's findings (JSON, CSV), the imports with their file hashes, a
    /// fresh signed checkpoint, an inclusion proof for every ledger entry behind them, and a
    /// manifest of every file's SHA-256 signed with the ledger key.
    #[command(after_help = "Example:
  annexa evidence pack --out evidence-2026-q4.zip
  annexa ledger key show > annexa.vkey       # hand the key over separately
  annexa evidence verify evidence-2026-q4.zip --key annexa.vkey")]
    Pack {
        #[arg(long)]
        out: PathBuf,
    },
    /// Check an evidence pack offline: the signed manifest, every file's hash, the
    /// checkpoint, every inclusion proof, and that each finding and import is in the ledger.
    Verify {
        file: PathBuf,
        /// The ledger's public key (vkey text or a file holding it), obtained separately.
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerKeyCommand {
    /// Print the verifier key (signed-note vkey form) to give to auditors and witnesses.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML (defaults merged with the file).
    Show,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many people the organisation has.
    #[arg(long, default_value_t = 1000)]
    pub people: usize,
    /// Seed of the generator: the same seed gives the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the generated files.
    #[arg(long, default_value = "annexa-demo")]
    pub out: PathBuf,
    /// Only write the files; do not import or audit.
    #[arg(long)]
    pub generate_only: bool,
    /// How to write the Active Directory export: `ldif` (corp-ad.ldif) or `csv`
    /// (corp-ad-accounts.csv and corp-ad-assignments.csv, for tools that cannot read LDIF).
    #[arg(long, value_enum, default_value_t = DirectoryFormat::Ldif)]
    pub directory_format: DirectoryFormat,
    /// Generate a first audit instead: nothing ever certified, no roles or birthright rules
    /// configured, four times the share of each problem (as a new customer's data is).
    #[arg(long)]
    pub first_audit: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The URL clients reach this server at, for Location headers and meta.location
    /// (default: http:// plus the listen address).
    #[arg(long)]
    pub public_url: Option<String>,
    /// Seconds between scheduler runs; 0 turns the scheduler off.
    #[arg(long, default_value_t = 300)]
    pub jobs_every: u64,
    /// Connections served at once; past that a new one is answered 503 with Retry-After
    /// (keep it below the process's file descriptor limit, `ulimit -n`).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// A Rego file that decides who may call what in the REST API, instead of the shipped
    /// one (`annexa serve --print-authorization` prints that, to start from).
    #[arg(long)]
    pub authorization: Option<std::path::PathBuf>,
    /// Print the shipped authorization policy and exit.
    #[arg(long)]
    pub print_authorization: bool,
    /// Serve HTTPS with this certificate chain (PEM); with --tls-key. Without it, put a
    /// TLS-terminating proxy in front and give --public-url https://…
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// A proxy (load balancer) in front of the server whose X-Forwarded-For names the
    /// client, for the per-client sign-in limit (repeat for several).
    #[arg(long, value_name = "ADDRESS")]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// Sign-in through the organisation's OpenID Connect provider (its issuer URL, https
    /// except on loopback): authorization code with PKCE and a nonce. Users are matched
    /// by name (`annexa user add NAME --oidc`).
    #[arg(long, requires_all = ["oidc_client_id", "oidc_client_secret_env"])]
    pub oidc_issuer: Option<String>,
    /// The client id Annexa is registered with at the provider (its redirect URI is the
    /// public URL plus /sign-in/oidc/callback).
    #[arg(long)]
    pub oidc_client_id: Option<String>,
    /// The environment variable that holds the client secret.
    #[arg(long)]
    pub oidc_client_secret_env: Option<String>,
    /// The ID token's claim that is the Annexa username (email, preferred_username, upn).
    #[arg(long, default_value = "email")]
    pub oidc_username_claim: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once and only its hash is stored.
    #[command(after_help = "Examples:
  annexa token create nightly-export --role auditor --expires 30
  annexa token create ana-reviews --role reviewer --employee E1042
  annexa token create okta-push --scope scim --system okta")]
    Create {
        /// A name to know it by (unique).
        name: String,
        /// What it may do in the REST API: admin, compliance-manager, auditor, reviewer
        /// (their own review items: give --employee), system-owner (give --employee).
        #[arg(long, value_parser = vocab::<Role>())]
        role: Option<Role>,
        /// api (with --role; the default) or scim (push Users and Groups for --system).
        #[arg(long, value_parser = vocab::<TokenScope>())]
        scope: Option<TokenScope>,
        /// The system whose accounts a scim token pushes (e.g. okta, entra), or the system
        /// a system-owner token sees.
        #[arg(long)]
        system: Option<String>,
        /// The person an api token acts for (employee id in HR).
        #[arg(long)]
        employee: Option<String>,
        /// Days until an api token expires (default 90, at most 3650).
        #[arg(long)]
        expires: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name.
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from an environment variable, never an argument.
    #[command(after_help = "Examples:
  ANNEXA_PASSWORD='…' annexa user add ana --role compliance-manager --password-env ANNEXA_PASSWORD
  ANNEXA_PASSWORD='…' annexa user add ana.r --role reviewer --employee E1042 --password-env ANNEXA_PASSWORD
  annexa user add ana.nunez@example.com --role reviewer --employee E1042 --oidc")]
    Add {
        /// The name to sign in with (letters, digits, '.', '_', '-', '@').
        username: String,
        /// admin, compliance-manager, auditor, reviewer (give --employee), system-owner
        /// (give --employee and --system).
        #[arg(long, value_parser = vocab::<Role>())]
        role: Role,
        /// The person they are in HR (employee id).
        #[arg(long)]
        employee: Option<String>,
        /// A system owner's system.
        #[arg(long)]
        system: Option<String>,
        /// The environment variable that holds the password (at least 12 characters).
        #[arg(long, required_unless_present = "oidc", conflicts_with = "oidc")]
        password_env: Option<String>,
        /// Signs in only through the organisation's identity provider (`annexa serve
        /// --oidc-issuer`), as the username: no password is kept.
        #[arg(long)]
        oidc: bool,
    },
    /// List users (never a password or its hash).
    List,
    /// Disable a user and end their sessions.
    Disable { username: String },
}

/// How the demo writes its Active Directory export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirectoryFormat {
    /// `corp-ad.ldif`, as `ldifde` writes it.
    Ldif,
    /// `corp-ad-accounts.csv` and `corp-ad-assignments.csv`: the same facts in the generic
    /// CSV formats (for tools that cannot read LDIF).
    Csv,
}

impl From<DirectoryFormat> for annexa_app::demo::DirectoryFormat {
    fn from(f: DirectoryFormat) -> Self {
        match f {
            DirectoryFormat::Ldif => annexa_app::demo::DirectoryFormat::Ldif,
            DirectoryFormat::Csv => annexa_app::demo::DirectoryFormat::Csv,
        }
    }
}

/// Which findings `findings list` shows by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    Open,
    Resolved,
    All,
}

/// A value parser for one of the model's closed vocabularies: its spellings are the
/// possible values (in `--help` and in the error for any other), and its aliases are
/// accepted too.
#[derive(Clone)]
pub struct Vocab<T>(std::marker::PhantomData<T>);

pub fn vocab<T>() -> Vocab<T> {
    Vocab(std::marker::PhantomData)
}

impl<T: Vocabulary + Send + Sync> clap::builder::TypedValueParser for Vocab<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &std::ffi::OsStr) -> Result<T, clap::Error> {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let text = value.to_string_lossy();
        T::parse(&text).ok_or_else(|| {
            let mut e = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
            if let Some(arg) = arg {
                e.insert(ContextKind::InvalidArg, ContextValue::String(arg.to_string()));
            }
            e.insert(ContextKind::InvalidValue, ContextValue::String(text.into_owned()));
            e.insert(ContextKind::ValidValue, ContextValue::Strings(T::all().iter().map(|v| v.as_str().to_string()).collect()));
            e
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(T::all().iter().map(|v| clap::builder::PossibleValue::new(v.as_str()))))
    }
}

/// What `annexa import` reads: a file of one of the import kinds, or a live directory over
/// LDAP (saved as LDIF, then imported as one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportSource {
    Hr,
    Accounts,
    Assignments,
    Ldif,
    AwsCredentialReport,
    Badges,
    Scim,
    Okta,
    Entra,
    GoogleWorkspace,
    Github,
    Ldap,
}

impl ImportSource {
    /// The kind of file imported (`ldap` is imported as `ldif`).
    pub fn kind(self) -> annexa_core::model::ImportKind {
        use annexa_core::model::ImportKind as K;
        match self {
            ImportSource::Hr => K::Hr,
            ImportSource::Accounts => K::Accounts,
            ImportSource::Assignments => K::Assignments,
            ImportSource::Ldif | ImportSource::Ldap => K::Ldif,
            ImportSource::AwsCredentialReport => K::AwsCredentialReport,
            ImportSource::Badges => K::Badges,
            ImportSource::Scim => K::Scim,
            ImportSource::Okta => K::Okta,
            ImportSource::Entra => K::Entra,
            ImportSource::GoogleWorkspace => K::GoogleWorkspace,
            ImportSource::Github => K::Github,
        }
    }
}
