"""`ClientCredentials_Setup`: the client's service principal and the app roles consented on the API."""

from applications.selectors import roles_consented_cached
from identity.oauth import errors
from policies.journeys import JourneyState, TechnicalProfile


def run(state: JourneyState, profile: TechnicalProfile) -> None:
    client, api = state.request.client, state.request.api
    roles = roles_consented_cached(client=client, api=api)
    if not roles:
        raise errors.InvalidScope(
            f"The application with identifier '{client.client_id}' has not been granted consent to any "
            f"application permission of '{api.app_id_uri or api.client_id}'. Request its app roles and grant "
            "admin consent.", b2c_code="AADB2C90284",
        )
    state.claims["objectId"] = str(client.service_principal_id)
    state.claims["roles"] = roles
