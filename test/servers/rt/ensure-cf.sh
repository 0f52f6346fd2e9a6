#!/usr/bin/env bash
# ensure-cf.sh - create (idempotently) the global ticket custom field that
# rtbridge's rt.idempotency_field tests use, RTBridgeEventKey (free-form,
# one value, applied to every queue), in the running test RT, through RT's
# Perl API (REST 1.0 cannot create custom fields).
#
#   RT_DATA_DIR=/var/lib/rt5-ci ./ensure-cf.sh [NAME]
set -euo pipefail
RT_DATA_DIR="${RT_DATA_DIR:-/var/lib/rt5-ci}"
RT_RUN_USER="${RT_RUN_USER:-www-data}"
NAME="${1:-RTBridgeEventKey}"
CONF="$RT_DATA_DIR/RT_SiteConfig.pm"
[ -f "$CONF" ] || { echo "ensure-cf: no RT configuration at $CONF (start RT first)" >&2; exit 1; }
# shellcheck disable=SC2016
setpriv --reuid="$RT_RUN_USER" --regid="$RT_RUN_USER" --init-groups \
    env RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_DATA_DIR/RT_SiteConfig.d" CF_NAME="$NAME" \
    perl -I/usr/local/share/request-tracker5/lib -I/usr/share/request-tracker5/lib -e '
    use strict; use warnings;
    use RT; RT::LoadConfig(); RT::Init();
    my $name = $ENV{CF_NAME};
    my $cf = RT::CustomField->new(RT->SystemUser);
    $cf->LoadByName(Name => $name, LookupType => RT::Ticket->CustomFieldLookupType);
    unless ($cf->Id) {
        my ($ok, $msg) = $cf->Create(Name => $name, Type => "Freeform", MaxValues => 1,
            LookupType => RT::Ticket->CustomFieldLookupType,
            Description => "rtbridge idempotency key (<event id>/<step>)");
        $ok or die "create custom field $name: $msg\n";
    }
    unless ($cf->IsGlobal) {
        my ($ok, $msg) = $cf->AddToObject(RT::Queue->new(RT->SystemUser)); # id 0: every queue
        $ok or die "apply custom field $name globally: $msg\n";
    }
    my $everyone = RT::Group->new(RT->SystemUser);
    $everyone->LoadSystemInternalGroup("Privileged") or die "no Privileged group\n";
    for my $right (qw(SeeCustomField ModifyCustomField)) {
        next if $everyone->PrincipalObj->HasRight(Right => $right, Object => $cf);
        my ($ok, $msg) = $everyone->PrincipalObj->GrantRight(Right => $right, Object => $cf);
        $ok or die "grant $right on $name: $msg\n";
    }
    print "RT_IDEMPOTENCY_CF=$name\n";'
