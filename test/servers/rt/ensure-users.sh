#!/usr/bin/env bash
# ensure-users.sh - create the extra RT users rtbridge's tests use, with RT's
# own Perl API (REST 1.0 cannot grant rights or choose a password's bcrypt
# cost).  Idempotent. Run after start-rt.sh; prints KEY=VALUE lines.
#
#   RT_DATA_DIR=/var/lib/rt5-ci bash ensure-users.sh
#
# Users (privileged, on the shared test RT):
#   rtbridge-owner    rights to see, own, take and modify tickets (granted
#                     globally): the "other owner" of take/steal tests
#   rtbridge-bench12  password hashed with bcrypt cost 12, RT's stock cost
#                     (the test RT uses 4): benchmarks of the password check.
#                     RT checks a hash with its own cost and upgrades only to
#                     a larger configured cost, so the hash stays at 12.
set -euo pipefail
RT_DATA_DIR="${RT_DATA_DIR:-/var/lib/rt5-ci}"
CONF="$RT_DATA_DIR/RT_SiteConfig.pm"
DB="$RT_DATA_DIR/rt5.db"
[ -f "$CONF" ] && [ -f "$DB" ] || { echo "ensure-users: no RT in $RT_DATA_DIR (run start-rt.sh first)" >&2; exit 1; }
OWNER_USER=rtbridge-owner OWNER_PASSWORD=ownerpass
BENCH_USER=rtbridge-bench12 BENCH_PASSWORD=benchpass12
owner=$(stat -c %U "$DB")
# shellcheck disable=SC2016
setpriv --reuid="$owner" --regid="$owner" --init-groups \
    env RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_DATA_DIR/RT_SiteConfig.d" \
    OWNER_USER="$OWNER_USER" OWNER_PASSWORD="$OWNER_PASSWORD" BENCH_USER="$BENCH_USER" BENCH_PASSWORD="$BENCH_PASSWORD" \
    perl -I/usr/local/share/request-tracker5/lib -I/usr/share/request-tracker5/lib -e '
    use strict; use warnings;
    use RT; RT::LoadConfig(); RT::Init();
    sub ensure_user {
        my ($name, $password, $cost, @rights) = @_;
        my $u = RT::User->new(RT->SystemUser);
        $u->Load($name);
        unless ($u->id) {
            my ($ok, $m) = $u->Create(Name => $name, EmailAddress => "$name\@bridge.test", Privileged => 1);
            $ok or die "create user $name: $m\n";
            print STDERR "ensure-users: created $name\n";
        }
        $u->SetPrivileged(1) unless $u->Privileged;
        my ($stored_cost) = ($u->__Value("Password") // "") =~ /^!bcrypt!(\d+)!/;
        unless (defined $stored_cost && $stored_cost == $cost && $u->IsPassword($password)) {
            RT->Config->Set(BcryptCost => $cost);
            my ($ok, $m) = $u->SetPassword($password);
            $ok or die "set password of $name: $m\n";
        }
        for my $right (@rights) {
            next if $u->PrincipalObj->HasRight(Right => $right, Object => RT->System);
            my ($ok, $m) = $u->PrincipalObj->GrantRight(Right => $right, Object => RT->System);
            $ok or die "grant $right to $name: $m\n";
        }
    }
    ensure_user($ENV{OWNER_USER}, $ENV{OWNER_PASSWORD}, RT->Config->Get("BcryptCost"),
        qw(SeeQueue ShowTicket ShowTicketComments OwnTicket TakeTicket ModifyTicket SeeCustomField));
    ensure_user($ENV{BENCH_USER}, $ENV{BENCH_PASSWORD}, 12, qw(SeeQueue ShowTicket));'
cat <<OUT
RT_OWNER_USER=$OWNER_USER
RT_OWNER_PASSWORD=$OWNER_PASSWORD
RT_BENCH12_USER=$BENCH_USER
RT_BENCH12_PASSWORD=$BENCH_PASSWORD
OUT
