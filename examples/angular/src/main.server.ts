import { bootstrapApplication, type BootstrapContext } from '@angular/platform-browser';
import { config } from './app/app.config.server';
import { ScoresComponent } from './app/scores.component';

const bootstrap = (context: BootstrapContext) => bootstrapApplication(ScoresComponent, config, context);

export default bootstrap;
