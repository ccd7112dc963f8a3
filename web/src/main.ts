// Entry point: the routes of the packshot web app.

import { startApp } from './app';
import { jobsScreen } from './screens/jobs';
import { newProjectScreen } from './screens/newproject';
import { notFoundScreen } from './screens/notfound';
import { projectScreen } from './screens/project';
import { projectsScreen } from './screens/projects';
import { signInScreen } from './screens/signin';

startApp(
  [
    { pattern: '/', screen: projectsScreen },
    { pattern: '/projects/new', screen: newProjectScreen },
    { pattern: '/projects/:id', screen: projectScreen },
    { pattern: '/jobs', screen: jobsScreen, role: 'service_role' },
  ],
  signInScreen,
  notFoundScreen,
);
