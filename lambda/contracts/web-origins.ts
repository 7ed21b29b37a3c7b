import { list, settingsGroup } from './settings';

/** Browser origins whose pages may read the API's answers (CORS); none for no browser access. */
export const WEB_ORIGINS = settingsGroup('the web origins', { webOrigins: list });
