#!/usr/bin/env bash
# ensure-cf.sh - create the ticket custom fields rtbridge's tests use, with
# RT's own Perl API (REST 1.0 and REST2 cannot create custom fields).
# Idempotent: an existing field is left alone. Run after start-rt.sh.
#
#   RT_DATA_DIR=/var/lib/rt5-ci bash ensure-cf.sh
#
# Fields (global: applied to every queue):
#   RTBridgeKey   Freeform, single value   (executor idempotency field)
#   RTBridgeTags  Freeform, multiple values
set -euo pipefail
RT_DATA_DIR="${RT_DATA_DIR:-/var/lib/rt5-ci}"
CONF="$RT_DATA_DIR/RT_SiteConfig.pm"
DB="$RT_DATA_DIR/rt5.db"
[ -f "$CONF" ] && [ -f "$DB" ] || { echo "ensure-cf: no RT in $RT_DATA_DIR (run start-rt.sh first)" >&2; exit 1; }
# Write the SQLite database as its owner (the RT server's user).
owner=$(stat -c %U "$DB")
# shellcheck disable=SC2016
setpriv --reuid="$owner" --regid="$owner" --init-groups \
    env RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_DATA_DIR/RT_SiteConfig.d" \
    perl -I/usr/local/share/request-tracker5/lib -I/usr/share/request-tracker5/lib -e '
    use strict; use warnings;
    use RT; RT::LoadConfig(); RT::Init();
    for my $spec (["RTBridgeKey", "FreeformSingle"], ["RTBridgeTags", "FreeformMultiple"]) {
        my ($name, $type) = @$spec;
        my $cf = RT::CustomField->new(RT->SystemUser);
        $cf->LoadByCols(Name => $name, LookupType => "RT::Queue-RT::Ticket", Disabled => 0);
        next if $cf->id;
        my ($id, $msg) = $cf->Create(Name => $name, Type => $type, LookupType => "RT::Queue-RT::Ticket",
            Description => "rtbridge tests");
        $id or die "create $name: $msg\n";
        my ($ok, $m) = $cf->AddToObject(RT::Queue->new(RT->SystemUser));   # id 0 = global
        $ok or die "apply $name globally: $m\n";
        print STDERR "ensure-cf: created $name ($type)\n";
    }'
echo "RT_TEST_CF=RTBridgeKey"
echo "RT_TEST_MULTI_CF=RTBridgeTags"
