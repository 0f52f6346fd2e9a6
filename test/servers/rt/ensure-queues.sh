#!/usr/bin/env bash
# ensure-queues.sh - create the extra RT queue rtbridge's tests use, with RT's
# own Perl API (REST cannot create queues or change rights). Idempotent. Run
# after start-rt.sh; prints KEY=VALUE lines.
#
#   RT_DATA_DIR=/var/lib/rt5-ci bash ensure-queues.sh
#
# Queues:
#   rtbridge-closed  no right for Everyone, Unprivileged or Privileged to
#                    create, reply or comment (RT grants those to Everyone on
#                    General only), so RT's mail gateway refuses mail from an
#                    ordinary sender: the rights-refusal tests of deliver: gateway
set -euo pipefail
RT_DATA_DIR="${RT_DATA_DIR:-/var/lib/rt5-ci}"
CONF="$RT_DATA_DIR/RT_SiteConfig.pm"
DB="$RT_DATA_DIR/rt5.db"
[ -f "$CONF" ] && [ -f "$DB" ] || { echo "ensure-queues: no RT in $RT_DATA_DIR (run start-rt.sh first)" >&2; exit 1; }
CLOSED_QUEUE=rtbridge-closed
owner=$(stat -c %U "$DB")
# shellcheck disable=SC2016
setpriv --reuid="$owner" --regid="$owner" --init-groups \
    env RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_DATA_DIR/RT_SiteConfig.d" CLOSED_QUEUE="$CLOSED_QUEUE" \
    perl -I/usr/local/share/request-tracker5/lib -I/usr/share/request-tracker5/lib -e '
    use strict; use warnings;
    use RT; RT::LoadConfig(); RT::Init();
    my $q = RT::Queue->new(RT->SystemUser);
    $q->Load($ENV{CLOSED_QUEUE});
    unless ($q->id) {
        my ($ok, $m) = $q->Create(Name => $ENV{CLOSED_QUEUE}, Description => "rtbridge tests: strangers may not write");
        $ok or die "create queue $ENV{CLOSED_QUEUE}: $m\n";
        print STDERR "ensure-queues: created $ENV{CLOSED_QUEUE}\n";
    }
    for my $type (qw(Everyone Unprivileged Privileged)) {
        my $g = RT::Group->new(RT->SystemUser);
        $g->LoadSystemInternalGroup($type);
        for my $right (qw(CreateTicket ReplyToTicket CommentOnTicket)) {
            my $acl = RT::ACE->new(RT->SystemUser);
            my ($id) = $acl->LoadByValues(PrincipalId => $g->PrincipalId, PrincipalType => "Group",
                RightName => $right, Object => $q);
            next unless $acl->id;
            my ($ok, $m) = $g->PrincipalObj->RevokeRight(Right => $right, Object => $q);
            $ok or die "revoke $right from $type on $ENV{CLOSED_QUEUE}: $m\n";
        }
    }'
echo "RT_CLOSED_QUEUE=$CLOSED_QUEUE"
