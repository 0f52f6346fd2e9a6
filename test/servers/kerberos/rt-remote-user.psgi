# rt-remote-user.psgi - the test RT as Apache's SPNEGO front sees it.
#
# RT 5.0.3 trusts the web server's user only through REMOTE_USER in the PSGI
# environment ($WebRemoteUserAuth).  Apache's mod_auth_gssapi front
# (start-kdc.sh, UPSTREAM=http://...) can pass the Kerberos user only as the
# request header X-Remote-User, so this wrapper copies that header into
# REMOTE_USER, the way mod_proxy_fcgi would for rt-server.fcgi.
#
# Safe only because the server listens on loopback and Apache overwrites any
# client-supplied X-Remote-User.  The settings below are made in this process
# only: the main test RT (same database and config dir) keeps its own auth.
#
# Started by start-rt-front.sh via
#   plackup -E deployment -s Starlet --host 127.0.0.1 --port ... rt-remote-user.psgi
# with RT_SITE_CONFIG / RT_SITE_CONFIG_DIR and RT_FRONT_URL in the environment.
use strict;
use warnings;

my $rt_app = do '/usr/share/request-tracker5/libexec/rt-server';
die "loading rt-server failed: " . ( $@ || $! || 'no app' ) . "\n"
    unless ref $rt_app eq 'CODE';

# Users authenticated by the front; without one (never the case behind
# mod_auth_gssapi) RT's own login still works.
RT->Config->Set( WebRemoteUserAuth    => 1 );
RT->Config->Set( WebFallbackToRTLogin => 1 );

# URLs RT generates (redirects, REST2 _url, Location) point at the front.
if ( my $front = $ENV{RT_FRONT_URL} ) {
    $front =~ s{/+$}{};
    my ( $host, $port ) = $front =~ m{^https?://([^/:]+)(?::(\d+))?};
    RT->Config->Set( WebBaseURL => $front );
    RT->Config->Set( WebURL     => "$front/" );
    RT->Config->Set( WebDomain  => $host ) if $host;
    RT->Config->Set( WebPort    => $port ) if $port;
}

sub {
    my $env  = shift;
    my $user = delete $env->{HTTP_X_REMOTE_USER};
    delete $env->{REMOTE_USER};
    $env->{REMOTE_USER} = $user if defined $user && length $user;
    return $rt_app->($env);
};
