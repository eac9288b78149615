"""The LoopTrace web console: pages for buyers, suppliers and admins.

It owns no business data: every page is drawn from the five services' HTTP APIs, called with
the signed-in user's own bearer token, so each service's access rules apply unchanged."""
