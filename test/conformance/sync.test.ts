import { syncScheduler } from 'rxjs-parallel';
import { conformance } from './suite.js';

conformance('sync', syncScheduler);
